"""Builds the TorchScript example: synthetic taxi trips and a small PyTorch
classifier trained on them, saved with torch.jit.save (fixed seed, so every
run gives the same files).

    /usr/bin/python3 examples/torchscript/make_example.py [OUT_DIR]

Writes OUT_DIR/model/model.pt (an MLP: 8 trip features -> 3 scores, one per
fare class: short, medium, long trip) and OUT_DIR/data/trips-*.csv (the 8
feature columns, in the model's order). OUT_DIR defaults to this folder.
Needs python3-torch (Debian); nothing else.
"""
import os
import sys

import torch

FEATURES = ["tripDistance", "tripTimeSecs", "passengerCount", "paymentType",
            "pickupHour", "pickupWeekday", "tolls", "airport"]


def trips(gen, n):
    dist = torch.rand(n, generator=gen) * 19.7 + 0.3
    secs = dist * (torch.rand(n, generator=gen) * 180 + 120)
    pax = torch.randint(1, 6, (n,), generator=gen).float()
    pay = torch.randint(1, 3, (n,), generator=gen).float()
    hour = torch.randint(0, 24, (n,), generator=gen).float()
    day = torch.randint(0, 7, (n,), generator=gen).float()
    airport = (torch.rand(n, generator=gen) < 0.1).float()
    tolls = airport * 6.55
    return torch.stack([dist, secs.round(), pax, pay, hour, day, tolls, airport], dim=1)


def fare_class(x):
    fare = 2.5 + 2.5 * x[:, 0] + x[:, 1] / 120 + x[:, 6]
    return torch.bucketize(fare, torch.tensor([15.0, 35.0]))


class TripClassifier(torch.nn.Module):
    def __init__(self, scale):
        super().__init__()
        self.register_buffer("scale", scale)
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(),
                                       torch.nn.Linear(32, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x / self.scale), dim=1)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    torch.manual_seed(7)
    gen = torch.Generator().manual_seed(7)
    x = trips(gen, 4000)
    y = fare_class(x)
    model = TripClassifier(x.abs().amax(dim=0).clamp(min=1.0))
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(torch.log(model(x) + 1e-9), y)
        loss.backward()
        opt.step()
    model.eval()
    os.makedirs(os.path.join(out, "model"), exist_ok=True)
    torch.jit.save(torch.jit.script(model), os.path.join(out, "model", "model.pt"))
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    for i in range(4):
        with open(os.path.join(out, "data", f"trips-{i:02d}.csv"), "w") as f:
            f.write(",".join(FEATURES) + "\n")
            for r in trips(gen, 250).tolist():
                f.write(f"{r[0]:.3f},{int(r[1])},{int(r[2])},{int(r[3])},{int(r[4])},"
                        f"{int(r[5])},{r[6]:.2f},{int(r[7])}\n")
    print(f"accuracy on the training trips: {(model(x).argmax(1) == y).float().mean():.3f}")


if __name__ == "__main__":
    main()
