-- Every type of Debezium's mapping table, one column each (after postgres_create_tables.ddl).
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN public.posint AS integer CHECK (VALUE > 0);
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE EXTENSION IF NOT EXISTS isn;
CREATE TABLE public.all_types (
    id serial PRIMARY KEY,
    c_int2 smallint, c_int4 integer, c_int8 bigint, c_oid oid,
    c_float4 real, c_float8 double precision,
    c_bool boolean NOT NULL DEFAULT true, c_bit1 bit(1), c_bit bit(12), c_varbit varbit(20), c_varbit_unbounded varbit,
    c_text text, c_varchar varchar(10), c_char char(5), c_citext citext, c_inet inet, c_cidr cidr,
    c_macaddr macaddr, c_macaddr8 macaddr8, c_int4range int4range, c_tsrange tsrange, c_isbn isbn,
    c_numeric numeric(7,2), c_numeric_p numeric(5), c_numeric_var numeric, c_money money,
    c_date date, c_time0 time(0), c_time3 time(3), c_time time, c_timetz timetz,
    c_ts0 timestamp(0), c_ts3 timestamp(3), c_ts timestamp, c_tstz timestamptz, c_tstz3 timestamptz(3),
    c_interval interval,
    c_uuid uuid, c_json json, c_jsonb jsonb, c_xml xml, c_hstore hstore, c_ltree ltree,
    c_bytea bytea, c_enum public.mood, c_domain public.posint, c_point point,
    c_int_arr integer[], c_text_arr text[], c_money_arr money[],
    c_not_null_default integer NOT NULL DEFAULT 42,
    c_created timestamp NOT NULL DEFAULT now()
);
ALTER TABLE public.all_types REPLICA IDENTITY FULL;
INSERT INTO public.all_types (
    c_int2, c_int4, c_int8, c_oid, c_float4, c_float8, c_bool, c_bit1, c_bit, c_varbit, c_varbit_unbounded,
    c_text, c_varchar, c_char, c_citext, c_inet, c_cidr, c_macaddr, c_macaddr8, c_int4range, c_tsrange, c_isbn,
    c_numeric, c_numeric_p, c_numeric_var, c_money, c_date, c_time0, c_time3, c_time, c_timetz,
    c_ts0, c_ts3, c_ts, c_tstz, c_tstz3, c_interval, c_uuid, c_json, c_jsonb, c_xml, c_hstore, c_ltree,
    c_bytea, c_enum, c_domain, c_point, c_int_arr, c_text_arr, c_money_arr, c_created
) VALUES (
    -32768, 2147483647, -9223372036854775808, 4000000000, 3.3, 3.0, false, B'1', B'101000000001', B'1011', B'10000000001',
    'tab	and "quote" \ backslash', 'väriable', 'ab', 'CaseLess', '192.168.0.1/24', '10.0.0.0/8',
    '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', '[1,10)', '[2020-01-01 00:00,2020-02-01 00:00)', '978-0-306-40615-7',
    -12345.67, 99999, 10.500, -1234.56, '2016-02-29', '23:59:59', '13:45:01.123', '24:00:00', '11:51:30.123456+02',
    '2016-11-04 13:51:30', '2016-11-04 13:51:30.123', '0001-01-01 00:00:00.000001 BC', '2016-11-04 13:51:30.123456+02', 'infinity',
    '1 year 2 months 3 days 04:05:06.789', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b": true}',
    '<doc><a>1</a></doc>', 'a=>1, "b c"=>NULL', 'Top.Science.Astronomy',
    '\x00ff10', 'happy', 7, '(1.5,-2)', '{1,NULL,3}', '{"x y",NULL,"q\"uote"}', '{1.5}', '2020-01-01 00:00:00'
);
INSERT INTO public.all_types (c_created) VALUES ('1969-12-31 23:59:59.999999');
