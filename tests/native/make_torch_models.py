#!/usr/bin/python3
"""Generates the TorchScript models, CSV inputs and expected predictions that
lote's TorchScript tests score (tests/unit/native_torch_test.cc,
tests/e2e/test_torchscript.py).

    /usr/bin/python3 tests/native/make_torch_models.py OUT_DIR

Needs python3-torch (Debian). Fixed seed: the same files every run.

OUT_DIR/
  mlp/model.pt       torch.jit.script of an MLP: 4 features -> 3 scores ([rows, 3])
  reg/model.pt       torch.jit.trace of a regressor: 4 features -> [rows]
  identity/model.pt  returns its input (as wide as the file; NaN passes through)
  tuple/model.pt     returns (x, x): not one tensor
  scalar/model.pt    returns x.sum(): a tensor without the rows dimension
  state/model.pt     torch.save of the MLP's state dict: not TorchScript
  fake/model.pt      a zip laid out like torch.jit.save's, with garbage inside:
                     passes lote's structural check, fails to load
  data.csv           the features f0..f3 among extra columns, in another order,
                     one quoted cell (scored with the columns named)
  bad.csv            data.csv with 'abc' in f1 of data row 7 (0-based)
  features.csv       the same rows with the columns f0..f3 only (scored as
                     they come)
  features_bad.csv   features.csv with 'abc' in f1 of data row 7
  expected_<model>_<csv>.csv   row,prediction[_k]...: the model's own outputs
                     on the rows lote reads (the bad row left out), as the
                     float32 values widened to Python floats (repr)
"""

import csv
import os
import sys
import zipfile

import torch

FEATURES = ["f0", "f1", "f2", "f3"]
SEED = 20240607
ROWS = 40


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(),
                                       torch.nn.Linear(16, 3))

    def forward(self, x):
        return self.net(x)


class Regressor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 1)

    def forward(self, x):
        return torch.tanh(self.linear(x)).squeeze(1) * 10.0


class Identity(torch.nn.Module):
    def forward(self, x):
        return x


class Pair(torch.nn.Module):
    def forward(self, x):
        return x, x


class Total(torch.nn.Module):
    def forward(self, x):
        return x.sum()


def save(module, out, name):
    os.makedirs(os.path.join(out, name), exist_ok=True)
    torch.jit.save(module, os.path.join(out, name, "model.pt"))


def write_data(gen, out):
    values = (torch.rand(ROWS, 4, generator=gen, dtype=torch.float64) * 20 - 5).tolist()
    header = ["id", "f2", "f0", "note", "f3", "f1"]
    rows = []
    for i, v in enumerate(values):
        cells = {f: f"{x:.4f}" for f, x in zip(FEATURES, v)}
        rows.append([f"r{i}", cells["f2"], cells["f0"], f"note {i}", cells["f3"], cells["f1"]])
    rows[3][3] = 'says "hi", twice'
    bad = [list(r) for r in rows]
    bad[7][5] = "abc"
    plain = [[f"{x:.4f}" for x in v] for v in values]
    plain_bad = [list(r) for r in plain]
    plain_bad[7][1] = "abc"
    files = {"data.csv": (header, rows), "bad.csv": (header, bad),
             "features.csv": (FEATURES, plain), "features_bad.csv": (FEATURES, plain_bad)}
    for name, (head, content) in files.items():
        with open(os.path.join(out, name), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(head)
            w.writerows(content)


def read_features(path):
    """The rows lote reads: (row, [f0..f3] as float32 from the decimal text);
    rows with a non-number are left out."""
    out = []
    with open(path, newline="") as f:
        for i, r in enumerate(csv.DictReader(f)):
            try:
                out.append((i, [float(r[c]) for c in FEATURES]))
            except ValueError:
                pass
    return out


def write_expected(module, csv_path, out_path):
    rows = read_features(csv_path)
    x = torch.tensor([v for _, v in rows], dtype=torch.float64).to(torch.float32)
    with torch.no_grad():
        pred = module(x)
    pred = pred.reshape(len(rows), -1)
    names = (["prediction"] if pred.shape[1] == 1
             else [f"prediction_{k}" for k in range(pred.shape[1])])
    with open(out_path, "w") as f:
        f.write(",".join(["row"] + names) + "\n")
        for (i, _), p in zip(rows, pred.tolist()):
            f.write(",".join([str(i)] + [repr(float(v)) for v in p]) + "\n")


def write_fake(out):
    os.makedirs(os.path.join(out, "fake"), exist_ok=True)
    with zipfile.ZipFile(os.path.join(out, "fake", "model.pt"), "w") as z:
        z.writestr("model/data.pkl", b"not a pickle")
        z.writestr("model/constants.pkl", b"not a pickle either")
        z.writestr("model/code/__torch__/m.py", "garbage(")
        z.writestr("model/version", "3\n")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    mlp = Mlp().eval()
    reg = Regressor().eval()
    scripted = torch.jit.script(mlp)
    traced = torch.jit.trace(reg, torch.zeros(2, 4))
    save(scripted, out, "mlp")
    save(traced, out, "reg")
    save(torch.jit.script(Identity()), out, "identity")
    save(torch.jit.script(Pair()), out, "tuple")
    save(torch.jit.script(Total()), out, "scalar")
    os.makedirs(os.path.join(out, "state"), exist_ok=True)
    torch.save(mlp.state_dict(), os.path.join(out, "state", "model.pt"))
    write_fake(out)
    write_data(gen, out)
    for model_name, module in (("mlp", scripted), ("reg", traced)):
        for stem in ("data", "bad", "features", "features_bad"):
            write_expected(module, os.path.join(out, f"{stem}.csv"),
                           os.path.join(out, f"expected_{model_name}_{stem}.csv"))


if __name__ == "__main__":
    main()
