// Writes lote's Parquet test files with DuckDB, the independent reference
// (types_<codec>_<v1|v2>.parquet: every codec and both page versions), and
// types.json, the values DuckDB reads back from them:
//   node tests/parquet_tool/write_fixtures.mjs <out-dir> [--seeds fuzz/corpus/parquet]
// The unit tests (tests/unit/parquet_file_test.cc) read the committed copies
// in tests/data/parquet/ and compare every value; ParquetFixtures.Regenerate
// reruns this script into a temporary folder when node is installed.
//
// nested_struct.parquet and nested_list.parquet: a STRUCT and a LIST column.
//
// types.json: {"rows": N, "row_groups": G, "columns": [{"name", "type"}],
//          "values": {"<name>": [v, ...]}} with null for NULL, numbers as
// JSON numbers, BIGINT and DECIMAL as strings (exact), BOOLEAN as true/false.
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const out = resolve(process.argv[2] ?? '.');
mkdirSync(out, { recursive: true });

const instance = await DuckDBInstance.create(':memory:');
const db = await instance.connect();
// One thread: the row groups and page layout come out the same on every run.
await db.run('SET threads = 1');

// 2500 rows over several row groups (ROW_GROUP_SIZE 1024). Low-cardinality columns come out dictionary
// encoded, the others plain; every column has nulls.
const TYPES = `
  SELECT
    CASE WHEN i % 17 = 0 THEN NULL ELSE CAST((i * 7919) % 100003 - 50000 AS INTEGER) END AS i32,
    CASE WHEN i % 19 = 0 THEN NULL ELSE CAST(i AS BIGINT) * 4294967311 - 9000000000000 END AS i64,
    CASE WHEN i % 23 = 0 THEN NULL ELSE CAST(i AS FLOAT) / 7.0 - 300.25 END AS f32,
    CASE WHEN i % 29 = 0 THEN NULL ELSE CAST(i AS DOUBLE) * 1.0000001 / 3.0 - 1e6 END AS f64,
    CASE WHEN i % 31 = 0 THEN NULL ELSE i % 3 = 0 END AS b,
    CASE WHEN i % 37 = 0 THEN NULL ELSE ['alpha', 'beta', '', 'γάμμα', 'δ-δ'][1 + i % 5] END AS s_dict,
    CASE WHEN i % 41 = 0 THEN NULL ELSE 'row-' || i || repeat('x', i % 7) END AS s_plain,
    CASE WHEN i % 43 = 0 THEN NULL ELSE CAST(i % 9 AS INTEGER) END AS i32_dict,
    CASE WHEN i % 47 = 0 THEN NULL ELSE CAST(CAST((i * 31) % 200001 - 100000 AS DECIMAL(12, 2)) * 0.01 AS DECIMAL(9, 2)) END AS dec9,
    CASE WHEN i % 53 = 0 THEN NULL ELSE CAST(CAST(i AS DECIMAL(18, 4)) * 123.4567 - 300000.0 AS DECIMAL(18, 4)) END AS dec18,
    CASE WHEN i % 59 = 0 THEN NULL ELSE CAST(CAST(i AS DECIMAL(30, 6)) * 98765.432109 - 123456789.012345 AS DECIMAL(30, 6)) END AS dec30,
    CAST(i AS INTEGER) AS id
  FROM range(2500) t(i)`;

const files = [];
for (const codec of ['uncompressed', 'snappy', 'zstd', 'gzip']) {
  for (const version of ['v1', 'v2']) {
    files.push({ name: `types_${codec}_${version}`,
                 options: `COMPRESSION ${codec}, ROW_GROUP_SIZE 1024, PARQUET_VERSION ${version.toUpperCase()}` });
  }
}

// Every file holds the same rows: types.json is DuckDB's reading of the
// first, and each other file must read back identically.
let expected = null;
for (const f of files) {
  const path = join(out, `${f.name}.parquet`);
  await db.run(`COPY (${TYPES}) TO '${path}' (FORMAT parquet, ${f.options})`);
  const text = await dump(path);
  if (expected === null) {
    expected = text;
    writeFileSync(join(out, 'types.json'), text);
  } else if (text !== expected) {
    throw new Error(`${f.name}.parquet: DuckDB reads different values than from ${files[0].name}.parquet`);
  }
}

// Nested schemas, which lote refuses naming the column.
await db.run(`COPY (SELECT 1 AS x, {'a': 1, 'b': 2.5} AS point) TO '${join(out, 'nested_struct.parquet')}' (FORMAT parquet)`);
await db.run(`COPY (SELECT 1 AS x, [1, 2, 3] AS xs) TO '${join(out, 'nested_list.parquet')}' (FORMAT parquet)`);

// Small files (40 rows) for the fuzzer's seed corpus, with --seeds <dir>:
// the same columns, every codec and page version.
const seedsAt = process.argv.indexOf('--seeds');
if (seedsAt > 0) {
  const seeds = resolve(process.argv[seedsAt + 1]);
  mkdirSync(seeds, { recursive: true });
  for (const f of files) {
    const path = join(seeds, `${f.name.replace('types_', '')}.parquet`);
    await db.run(`COPY (${TYPES.replace('range(2500)', 'range(40)')}) TO '${path}' (FORMAT parquet, ${f.options})`);
  }
}

async function dump(parquetPath) {
  const described = await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${parquetPath}')`);
  const columns = described.getRowObjectsJson().map(r => ({ name: r.column_name, type: r.column_type }));
  const select = columns.map(c => {
    const q = `"${c.name}"`;
    // Exact text for the types a JS number cannot hold exactly.
    if (c.type === 'BIGINT' || c.type.startsWith('DECIMAL')) return `CAST(${q} AS VARCHAR) AS ${q}`;
    return q;
  }).join(', ');
  const reader = await db.runAndReadAll(`SELECT ${select} FROM read_parquet('${parquetPath}')`);
  const cols = reader.getColumnsJson();
  const values = {};
  columns.forEach((c, k) => { values[c.name] = cols[k]; });
  const meta = await db.runAndReadAll(
    `SELECT count(DISTINCT row_group_id) AS g FROM parquet_metadata('${parquetPath}')`);
  const rowGroups = Number(meta.getRowObjectsJson()[0].g);
  return JSON.stringify({ rows: cols[0].length, row_groups: rowGroups, columns, values }) + '\n';
}
