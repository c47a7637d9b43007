INSERT INTO public.all_types (c_numeric, c_numeric_var, c_float8, c_float4, c_date, c_tstz, c_text, c_created)
    VALUES (0, 0.000100, 'NaN', '-Infinity', '-infinity', '-infinity', repeat('x', 10), '2000-01-01');
UPDATE public.all_types SET c_int4 = 1, c_text = 'changed' WHERE id = 1;
UPDATE public.all_types SET id = 100 WHERE id = 2;
DELETE FROM public.all_types WHERE id = 100;
