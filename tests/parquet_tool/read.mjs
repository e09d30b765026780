// Reads a Parquet file with DuckDB, the independent reference, and prints
// it as JSON: {"columns": [{"name", "type"}], "rows": [[v, ...], ...]} with
// null for NULL, BIGINT as a JSON number when it is a safe integer (else a
// string), DOUBLE as a number ("NaN", "Infinity" as strings), BOOLEAN as
// true/false, VARCHAR as a string. Rows in file order.
//   node tests/parquet_tool/read.mjs <file.parquet>
// tests/e2e/test_parquet_output.py compares lote's Parquet output with its
// CSV output through this.
import { DuckDBInstance } from '@duckdb/node-api';
import { resolve } from 'node:path';

const path = resolve(process.argv[2]);
const instance = await DuckDBInstance.create(':memory:');
const db = await instance.connect();
await db.run('SET threads = 1');
const quoted = path.replaceAll("'", "''");
const described = await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${quoted}')`);
const columns = described.getRowObjectsJS().map(r => ({ name: r.column_name, type: r.column_type }));
const reader = await db.runAndReadAll(`SELECT * FROM read_parquet('${quoted}', file_row_number = false)`);
const value = (v) => {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
};
const rows = reader.getRowsJS().map(r => r.map(value));
process.stdout.write(JSON.stringify({ columns, rows }) + '\n');
