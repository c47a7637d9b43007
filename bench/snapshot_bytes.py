#!/usr/bin/env python3
"""The snapshot's fast path (COPY text straight to JSON) against the Connect-value path, end to
end and byte for byte: the golden all_types table (plus rows with escapes) snapshotted twice per
handling mode, once as is and once with a Filter transform that keeps everything (transforms turn
the fast path off), and the topic files compared with only times, WAL positions and transaction
ids masked. Needs SLUICE_BENCH_PG_PORT and SLUICE_BIN like bench/run.py.
"""
import json, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as B
db = "e2ecmp"
B.fresh_db(db)
g = Path(__file__).resolve().parent.parent / "crates/sluice/tests/golden/types"
B.psql_file(db, g / "setup.sql")
B.psql_file(db, g / "changes.sql")
# more rows with escapes and edge values on the fast-path types
B.psql(db, r"""INSERT INTO all_types (c_int2, c_int4, c_int8, c_text, c_varchar, c_char, c_numeric, c_tstz, c_tstz3, c_jsonb, c_json, c_uuid)
SELECT g::smallint, -g, g * 100000000000, E'tab\there "q" back\\slash\nnl \u00e9\u2603 ' || g || E'\x01\x7f', 'v' || g, 'c', g / 100.0 - 5,
 TIMESTAMPTZ '2020-01-01 00:00:00+00' + g * INTERVAL '1.000001 second', TIMESTAMPTZ '1999-12-31 23:59:59.5+00' + g * INTERVAL '1 day',
 jsonb_build_object('k', g, 's', E'x"y\\z'), '{"a": [1, 2]}', md5(g::text)::uuid FROM generate_series(1, 200) g""")
work = Path(tempfile.mkdtemp(prefix="e2e-", dir="/tmp"))
mask = [
    (rb'"timestamp":\d+', b'"timestamp":T'),
    (rb'"(ts_ms|ts_us|ts_ns|lsn|txId)":\d+', rb'"\1":N'),
    (rb'"sequence":"\[[^\]]*\]"', b'"sequence":S'),
    (rb'"c_created":[-\d]+', b'"c_created":C'),
]
def run(name, extra):
    cfg = work / f"{name}.json"
    c = B.connector(name, db, "public.all_types", snapshot_mode="initial_only", slot_name=name, publication_name=name,
                    publication_autocreate_mode="filtered", topic_prefix="e2e")
    c["config"].update(extra)
    cfg.write_text(json.dumps(c))
    data = work / f"data-{name}"
    proc = B.Proc(["run", "--data-dir", str(data), str(cfg)])
    B.wait_offset(proc, data, name, lambda o: o.get("last_snapshot_record") is True, 120)
    proc.finish()
    B.psql(db, f"SELECT pg_drop_replication_slot('{name}')")
    text = b"".join(f.read_bytes() for f in B.topic_files(data))
    for pat, rep in mask:
        text = re.sub(pat, rep, text)
    return text
never = {"transforms": "keep", "transforms.keep.type": "org.apache.kafka.connect.transforms.Filter",
         "transforms.keep.predicate": "never", "predicates": "never",
         "predicates.never.type": "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
         "predicates.never.pattern": "nomatch"}
modes = [{}, {"value.converter.schemas.enable": "false", "key.converter.schemas.enable": "false"},
         {"decimal.handling.mode": "string", "time.precision.mode": "connect", "binary.handling.mode": "hex"},
         {"decimal.handling.mode": "double", "interval.handling.mode": "string", "hstore.handling.mode": "map"}]
ok = True
for i, m in enumerate(modes):
    fast = run(f"e2e_fast_{i}", m)
    slow = run(f"e2e_slow_{i}", dict(m, **never))
    n = fast.count(b"\n")
    same = fast == slow
    ok &= same and n > 200
    print(f"mode {i} {m}: {n} records, identical={same}, bytes={len(fast)}")
    if not same:
        for a, b in zip(fast.split(b"\n"), slow.split(b"\n")):
            if a != b:
                i = next(k for k in range(min(len(a), len(b))) if a[k] != b[k])
                print("FAST", a[max(0, i - 300):i + 300]); print("SLOW", b[max(0, i - 300):i + 300]); break
shutil.rmtree(work, ignore_errors=True)
B.psql("postgres", f"DROP DATABASE {db} WITH (FORCE)")
print("ALL IDENTICAL" if ok else "DIFFERENCES")
sys.exit(0 if ok else 1)
