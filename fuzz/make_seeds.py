#!/usr/bin/env python3
"""Writes the hand-made seed corpora of fuzz/corpus/ (see fuzz/README.md).

The frame and token seeds are written by their fuzz targets themselves, with
lote's own writer and signer:
  LOTE_FUZZ_MAKE_SEEDS=fuzz/corpus/frame build-fuzz/frame_fuzzer
  LOTE_FUZZ_MAKE_SEEDS=fuzz/corpus/token build-fuzz/token_fuzzer
This script writes the others, in the input layout each target's header
comment describes. Run from the repository root; it overwrites its own files
only.
"""
import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def results_body(results, rows):
    meta = {"worker": "node0/process001", "results": results}
    return json.dumps(meta).encode() + b"\n" + rows


def result_batch():
    rows17 = b"a.csv,0,1.5\na.csv,1,2.5\n"
    rows18 = b'b.csv,0,"x,y"\n'
    r17 = {"task": 17, "lease": "9f0c2a", "succeeded": 2, "failed": 0,
           "started_ms": 1764081000000, "elapsed_ms": 12, "header": "file,row,prediction",
           "bytes": len(rows17)}
    r18 = {"task": 18, "lease": "77aa", "succeeded": 1, "failed": 1, "header": None,
           "bytes": len(rows18)}
    write("result_batch", "two_results", results_body([r17, r18], rows17 + rows18))
    write("result_batch", "one_result", results_body([r17], rows17))
    write("result_batch", "no_rows", results_body([dict(r18, bytes=0)], b""))
    write("result_batch", "no_results", results_body([], b""))
    write("result_batch", "counts_disagree", results_body([dict(r17, bytes=5)], rows17))
    write("result_batch", "huge_count",
          results_body([dict(r17, bytes=9223372036854775807)], rows17))


def csv_input(flags, max_rows, columns, body):
    return bytes([flags, max_rows]) + columns.encode() + b"\n" + body


def csv_reader():
    tips = (ROOT / "examples/tips/data/trips-00.csv").read_bytes()
    plugin = (ROOT / "examples/plugin/data/trips.csv").read_bytes()
    broken = (ROOT / "examples/plugin/data/broken.csv").read_bytes()
    write("csv_reader", "tips_all_columns", csv_input(1, 7, "", tips))
    write("csv_reader", "tips_two_columns", csv_input(1, 64, "tripDistance,passengerCount", tips))
    write("csv_reader", "plugin_trips", csv_input(0, 3, "", plugin))
    write("csv_reader", "broken_rows", csv_input(1, 2, "y,x", broken))
    write("csv_reader", "missing_column", csv_input(1, 2, "nope", broken))
    write("csv_reader", "quoted_fields", csv_input(
        1, 4, "a,c", b'a,"b,1",c\r\n1,"x\n""y""",3\r\n"4",,"NaN"\r\n\r\n7,8,inf\r\n'))
    write("csv_reader", "bom_and_missing_values", csv_input(
        0, 9, "", b'\xef\xbb\xbfa,b\nNA,true\n<NA>,False\n-nan,+1e5\n #N/A , 2 \n'))
    write("csv_reader", "long_record", csv_input(
        1, 2, "", b"a,b\n" + b"1," + b"9" * 5000 + b"\n2,3\n" + b"4," + b'"' + b"x" * 4200 + b'"\n'))


CSV, TSV, LINES = 0, 1, 2


def planner_input(target, fmt, body, pieces=7, small_header=None, whole_file=True):
    flags = fmt | (4 if small_header is not None else 0) | (8 if whole_file else 0)
    extra = bytes([small_header]) if small_header is not None else b""
    return struct.pack(">H", target - 1) + bytes([flags]) + extra + bytes([pieces]) + body


def jsonl_reader():
    rows = b'{"a": 1.5, "b": 2}\n\n{"b": null, "a": true, "x": "s"}\r\n[1]\n{"a": 1\n{"a": "7", "b": 1}'
    write("jsonl_reader", "mixed_rows", csv_input(1, 2, "a,b", b"\xef\xbb\xbf" + rows))
    write("jsonl_reader", "one_key", csv_input(0, 64, "", b'{"a": -3e2}\n{"a": 18446744073709551616}\n'))
    write("jsonl_reader", "escaped_keys", csv_input(3, 5, "k\u00e9", '{"k\\u00e9": 4, "k\u00e9": 5}\n'.encode()))


def planner():
    tips = (ROOT / "examples/tips/data/trips-00.csv").read_bytes()
    write("planner", "csv_64b", planner_input(64, CSV, tips))
    write("planner", "csv_1b", planner_input(1, CSV, tips, pieces=255))
    write("planner", "csv_bom_crlf", planner_input(
        12, CSV, b"\xef\xbb\xbfid,name\r\n1,a\r\n2,\"b\r\nc\"\r\n3,\"d\"\"e\"\r\n4,x\r\n"))
    write("planner", "tsv", planner_input(
        10, TSV, b'a\tb\n1\t"x\ty"\n2\t"multi\nline"\n3\tplain"quote\n4\t5\n'))
    write("planner", "jsonl", planner_input(
        40, LINES, b'{"a": 1}\n{"a": 2, "b": "x"}\n{"a": 3}\n\n{"a": 4}'))
    write("planner", "quoted_newlines", planner_input(
        16, CSV, b'id,text\n1,"one\nline"\n2,"two\r\nlines"\n3,plain\n'))
    write("planner", "quoted_header", planner_input(4, CSV, b'"a\nb",c\n1,2\n3,4\n'))
    write("planner", "bare_cr", planner_input(4, CSV, b"h\n1\n2\r3\n4\n5\n"))
    write("planner", "unclosed_quote", planner_input(4, CSV, b'h\n1\n"2\n3\n4\n'))
    write("planner", "no_final_newline", planner_input(8, CSV, b"h\n" + b"x" * 30))
    write("planner", "header_only", planner_input(4, CSV, b"a,b,c\n"))
    write("planner", "header_too_long", planner_input(4, CSV, b"abcdefghij,k\n1,2\n3,4\n", small_header=8))


def yaml_spec():
    for p in sorted(ROOT.glob("examples/*/*.yml")):
        write("yaml_spec", f"example_{p.parent.name}_{p.stem}", p.read_bytes())
    write("yaml_spec", "compute", "$schema: https://azuremlschemas.azureedge.net/latest/amlCompute.schema.json\n"
          "name: cpu-cluster\ntype: amlcompute\nsize: STANDARD_DS3_v2\nmin_instances: 0\nmax_instances: 5\n")
    write("yaml_spec", "datastore", "name: blobs\ntype: local\npath: /srv/data\nis_default: true\n")
    write("yaml_spec", "data_asset_datastore_uri",
          "name: taxi\nversion: 1\ntype: uri_folder\npath: azureml://datastores/workspaceblobstore/paths/taxi/\n")
    write("yaml_spec", "data_asset_local", "name: taxi\nlocal_path: ./data\ndescription: trips\n")
    write("yaml_spec", "model", "name: autolog\nversion: 1\ntype: mlflow_model\nlocal_path: ./autolog\n")
    write("yaml_spec", "endpoint_map_form", """name: mapped
type: batch
defaults:
  deployment_name: blue
deployments:
  blue:
    model: azureml:autolog:1
    compute: azureml:cpu-cluster
    resources: {instance_count: 2}
    mini_batch_size: "64MB"
    retry_settings: {max_retries: 0, timeout: PT1M30S}
  green:
    model: {name: m, version: 2, path: ./m}
    compute: {target: azureml:cpu-cluster}
    environment: {name: env, version: 3, conda_file: "file:env.yml", docker: {image: x}}
    environment_variables: {A: "1"}
""")
    write("yaml_spec", "anchors_and_merges", """base: &base
  compute: azureml:cpu-cluster
  retry_settings: {max_retries: 2, timeout: 2m}
name: merged
model: azureml:autolog@latest
<<: *base
mini_batch_size: 5
""")
    write("yaml_spec", "traffic", "blue: 100\ngreen: '0'\n")
    write("yaml_spec", "json_form", json.dumps({
        "name": "jsonep", "deployments": [{"name": "a1", "model": "azureml:x:1",
                                           "compute": {"target": "azureml:c", "instance_count": 1}}],
        "traffic": {"a1": 100}}))
    write("yaml_spec", "one_liner_timeout", "PT1M30S")
    write("yaml_spec", "one_liner_traffic", "blue:100,green:0")
    write("yaml_spec", "one_liner_size", "64 MB")


def invoke_request():
    bodies = {
        "data_asset": {"input": {"data": "azureml:taxi:1"}, "set": {"mini_batch_size": 3}},
        "datastore": {"deployment": "blue", "input": {"datastore": "workspaceblobstore", "path": "taxi"},
                      "output": {"datastore": "workspaceblobstore", "path": "out", "file_name": "p.csv"},
                      "set": {"retry_settings.max_retries": 1, "timeout": "2m", "instance_count": 2,
                              "output_action": "summary_only", "error_threshold": 5}},
        "uri": {"input": {"uri": "https://example.com/data/"}},
        "datastore_uri": {"input": {"uri": "azureml://datastores/workspaceblobstore/paths/taxi/"}},
        "azure_2020_dataurl": {"properties": {"dataset": {"dataInputType": "DataUrl",
                                                          "Path": "https://example.com/a.csv"},
                                              "outputDataset": {"datastoreId": "/subscriptions/x/datastores/blobs",
                                                                "path": "/out"},
                                              "outputFileName": "preds.csv"}},
        "azure_2020_dataset": {"properties": {"dataset": {"dataInputType": "DatasetVersion",
                                                          "datasetName": "taxi", "datasetVersion": 2}}},
        "azure_2022": {"properties": {"InputData": {"in": {"JobInputType": "UriFolder",
                                                           "Uri": "azureml://datastores/blobs/paths/taxi"}},
                                      "OutputData": {"out": {"JobOutputType": "UriFile",
                                                             "Uri": "azureml://datastores/blobs/paths/o/p.csv"}}}},
        "two_inputs": {"input": {"data": "azureml:a:1", "uri": "https://x"}},
    }
    for name, body in bodies.items():
        write("invoke_request", name, json.dumps(body))


def query():
    doc = (json.dumps({"name": "mybatchedp", "traffic": {"blue": 100, "green": 0},
                       "deployments": [{"name": "blue", "mini_batch_size": 10,
                                        "compute": {"instance_count": 2}},
                                       {"name": "green", "mini_batch_size": "64MB"}],
                       "tags": {"a.b": "c"}, "n": [3, 1, [2, [4]]]}))
    exprs = {
        "field": "deployments[0].name",
        "projection": "deployments[*].name",
        "filter": "deployments[?compute.instance_count > `1` && !(name == 'green')].name",
        "slice": "n[::-1]",
        "flatten": "n[][] | [0]",
        "multiselect_hash": "{n: name, t: traffic.blue, k: keys}",
        "multiselect_list": "[name, deployments[-1].mini_batch_size]",
        "values": "traffic.*",
        "quoted_key": 'tags."a.b"',
        "literal": "`{\"a\": [1, 2]}`.a[1]",
        "or_and": "missing || name && `true`",
    }
    for name, e in exprs.items():
        write("query", name, e + "\n" + doc)
    write("query", "syntax_error", "a.]\n{}")
    write("query", "fallback_document", "deployments[?name=='green'].compute.target\nnot json")


def safe_path():
    for name, p in {"plain": "data/taxi.csv", "dots": "./a/./b/", "dotdot": "a/../b",
                    "absolute": "/etc/passwd", "backslash": "\\\\server\\share", "empty": "",
                    "nul": "a\0b", "symlink_out": "out/secret", "folder": "data/in/",
                    "double_slash": "data//a.csv", "link_inside": "inlink/a.csv",
                    "absolute_link_inside": "abslink/in/new.csv", "absolute_link_out": "absout/root/data",
                    "link_up": "uplink/secret", "loop": "loop/x", "dangling": "dangling", "fifo": "fifo",
                    "new_folders": "data/new/deeper/file.csv"}.items():
        write("safe_path", name, p)


def json_body():
    for name, text in {
        "object": '{"input": {"datastore": "ds", "path": "in/"}, "set": {"mini_batch_size": 10}}',
        "nested_64": "[" * 63 + "{}" + "]" * 63,
        "nested_65": "[" * 64 + "{}" + "]" * 64,
        "brackets_in_strings": '{"a": "[[[{{{", "b\\"": ["]]]"], "c": "\\\\[", "d": "\\u005b"}',
        "number_overflow": '{"v": 1e400}',
        "numbers": '[0, -0, 1.5e-300, 18446744073709551615, -9223372036854775808, 1E+2]',
        "unicode": '{"caf\\u00e9": "\\ud83d\\ude00", "raw": "é"}',
        "bad_surrogate": '{"a": "\\ud800"}',
        "invalid_utf8": b'{"a": "\xff"}',
        "trailing_garbage": '{"a": 1} x',
        "not_an_object": '[1, 2]',
        "unbalanced_close": ']]]}}}{"a": 1}',
        "empty": "",
    }.items():
        write("json_body", name, text)


def http_router():
    for name, (method, target) in {
        "health": ("GET", "/api/v1/health"),
        "invoke": ("POST", "/api/v1/endpoints/mybatchedp/jobs"),
        "invoke_escaped": ("POST", "/api/v1/endpoints/my%62atchedp/jobs"),
        "file_rest": ("GET", "/api/v1/datastores/ds/files/a/b%20c.csv?offset=3&x=%zz"),
        "file_escaped_slash": ("PUT", "/api/v1/datastores/ds/files/a%2Fb"),
        "file_absolute": ("PUT", "/api/v1/datastores/ds/files//etc/passwd"),
        "escaped_nul": ("GET", "/api/v1/jobs/j%00/log"),
        "bad_escape": ("GET", "/api/v1/jobs/j%4/files"),
        "agent_lease": ("POST", "/api/v1/jobs/mybatchedp-20261128-1/lease"),
        "agent_fail": ("POST", "/api/v1/jobs/mybatchedp-20261128-1/tasks/7/fail"),
        "agent_dotdot": ("POST", "/api/v1/jobs/mybatchedp-20261128-1/tasks/../../other/lease"),
        "empty_capture": ("GET", "/api/v1/endpoints//deployments/blue"),
        "query_plus": ("GET", "/api/v1/jobs?name=a+b&&c"),
        "no_slash": ("GET", "api/v1/health"),
    }.items():
        write("http_router", name, method + "\n" + target)


def index_links():
    def page(flags, text):
        return bytes([flags]) + (text if isinstance(text, bytes) else text.encode())
    apache = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN"><html><head><title>Index of /data</title>'
              '</head><body><h1>Index of /data</h1><table><tr><th><a href="?C=N;O=D">Name</a></th></tr>'
              '<tr><td><a href="/">Parent Directory</a></td></tr>'
              '<tr><td><a href="trips-00.csv">trips-00.csv</a></td></tr>'
              '<tr><td><a href="trips%2001.csv">trips 01.csv</a></td></tr>'
              '<tr><td><a href="sub/">sub/</a></td></tr></table></body></html>')
    python = ('<html><body><ul><li><a href="a.csv">a.csv</a></li><li><a href=\'b.csv\'>b</a></li>'
              '<li><a href=c.csv>c</a></li><li><A HREF = "./d.csv">d</a></li>'
              '<li><a href="http://example.com/data/e.csv">e</a></li><li><a href="../up.csv">up</a></li>'
              '<li><a data-href="x.csv">x</a></li><li><a href="#top">top</a></li></ul></body></html>')
    write("index_links", "apache", page(0, apache))
    write("index_links", "python_http_server", page(0 | 6 << 2, python))
    write("index_links", "absolute_links", page(1 | 7 << 2, '<a href="/a/b/f.csv">f</a> <a href="//h:8443/a/b/g.csv">g</a>'
                                            ' <a href="https://h:8443/a/b/c/h.csv">h</a>'))
    write("index_links", "huge_href", page(2 | 7 << 2 | 0x80, '<a href="' + "x" * 120))
    write("index_links", "tiny_limit", page(3 | 1 << 2, '<a href="ab">ab</a> <a href=c>c</a>'))
    write("index_links", "dots", page(0 | 7 << 2, '<a href=".">.</a><a href="%2e">.</a><a href="%2E%2e">..</a>'
                                      '<a href="a%2Fb.csv">a/b</a><a href="n%00ul.csv">nul</a><a href="./">self</a>'))
    write("index_links", "unterminated", page(0 | 7 << 2, "<a href='never-closed.csv"))


def fs_name():
    for name, raw in {
        "ascii": b"data/trips-00.csv",
        "utf8": "données/café ☕.csv".encode(),
        "latin1": b"caf\xe9.txt",
        "truncated_sequence": b"a\xe2\x82b\xe2\x82\xac",
        "overlong": b"\xc0\xaf\xe0\x80\xaf",
        "surrogate": b"\xed\xa0\x80",
        "past_max": b"\xf4\x90\x80\x80\xf5",
        "nul": b"a\x00b",
        "empty": b"",
    }.items():
        write("fs_name", name, b"\x00" + raw)
    for name, item in {
        "item_utf8": {"path": "/d/a.csv"},
        "item_b64": {"path": "/d/caf\\xe9.txt", "path_b64": "L2QvY2Fm6S50eHQ"},
        "item_b64_noncanonical": {"path": "x", "path_b64": "L2QvY2Fm6S50eHR"},
        "item_b64_padded": {"path": "x", "path_b64": "eA=="},
        "item_b64_nul": {"path": "x", "path_b64": "YQBi"},
        "item_path_not_string": {"path": 5},
        "item_range_header": {"path": "/d/a.csv", "offset": 10, "length": 20, "header": "a\\xe9",
                              "header_b64": "Yek"},
        "item_null_path": {"path": None, "path_b64": "eA"},
    }.items():
        write("fs_name", name, b"\x01" + json.dumps(item).encode())


if __name__ == "__main__":
    result_batch()
    csv_reader()
    jsonl_reader()
    planner()
    yaml_spec()
    invoke_request()
    query()
    safe_path()
    json_body()
    http_router()
    index_links()
    fs_name()
