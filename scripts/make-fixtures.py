#!/usr/bin/env python3
"""Regenerates Tests/PrototypesTests/Fixtures/*: PyTorch reference values for smallcnn-bn
and cifarcnn (random weights, random inputs), in the same layout as ../shared/fixtures.

Needs `pip install torch safetensors` (not needed to build or test i2x: the outputs are
committed). Run: python3 scripts/make-fixtures.py
"""
import os
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "PrototypesTests", "Fixtures")


class SmallCNN(nn.Module):
    """smallcnn (no BatchNorm, biased convs); the benchmarks' PyTorch side uses it."""
    def __init__(self):
        super().__init__()
        for i, (a, b) in enumerate([(1, 16), (16, 32), (32, 64)], 1):
            setattr(self, f"conv{i}", nn.Conv2d(a, b, 3, padding=1))
        self.fc = nn.Linear(64, 10)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.relu(self.conv3(x))

    def head(self, a):
        return self.fc(a.mean(dim=(2, 3)))


class SmallCNNBN(nn.Module):
    def __init__(self):
        super().__init__()
        for i, (a, b) in enumerate([(1, 16), (16, 32), (32, 64)], 1):
            setattr(self, f"conv{i}", nn.Conv2d(a, b, 3, padding=1, bias=False))
            setattr(self, f"bn{i}", nn.BatchNorm2d(b))
        self.fc = nn.Linear(64, 10)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return F.relu(self.bn3(self.conv3(x)))

    def head(self, a):
        return self.fc(a.mean(dim=(2, 3)))


class CifarCNN(nn.Module):
    def __init__(self):
        super().__init__()
        for i, (a, b) in enumerate([(3, 32), (32, 32), (32, 64), (64, 64), (64, 128)], 1):
            setattr(self, f"conv{i}", nn.Conv2d(a, b, 3, padding=1))
        self.fc = nn.Linear(128, 10)

    def features(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = F.max_pool2d(x, 2)
        x = F.relu(self.conv4(F.relu(self.conv3(x))))
        x = F.max_pool2d(x, 2)
        return F.relu(self.conv5(x))

    def head(self, a):
        return self.fc(a.mean(dim=(2, 3)))


def gradcam(model, images, classes):
    a = model.features(images)
    a.retain_grad()
    logits = model.head(a)
    logits.gather(1, classes[:, None]).sum().backward()
    alpha = a.grad.mean(dim=(2, 3), keepdim=True)
    return F.relu((alpha * a).sum(1)).detach(), a.detach(), logits.detach()


def make(name, model, shape, optimizer_name):
    torch.manual_seed(1234)
    # Move BatchNorm running stats off their defaults so evaluation mode is exercised.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
            m.num_batches_tracked.fill_(7)
    images = torch.rand((16,) + shape)
    labels = torch.randint(0, 10, (16,))
    state = {k: v.clone().contiguous() for k, v in model.state_dict().items()}
    model.eval()
    predicted = model.head(model.features(images)).argmax(1)
    cam_predicted, acts, logits = gradcam(model, images, predicted)
    model.zero_grad()
    cam_label, _, _ = gradcam(model, images, labels)
    model.zero_grad()
    up = F.interpolate(cam_predicted[:, None], size=shape[1:], mode="bilinear", align_corners=False)[:, 0]
    lo = up.amin(dim=(1, 2), keepdim=True)
    hi = up.amax(dim=(1, 2), keepdim=True)
    up = (up - lo) / (hi - lo + 1e-7)
    x = images.clone().requires_grad_(True)
    model.head(model.features(x)).gather(1, labels[:, None]).sum().backward()
    input_grad = x.grad.detach()
    model.zero_grad()

    model.train()
    if optimizer_name == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(model.head(model.features(images)), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    ref = {
        "images": images, "labels": labels, "predicted": predicted, "logits": logits,
        "target_activations": acts, "cam_predicted": cam_predicted, "cam_label": cam_label,
        "cam_predicted_upsampled": up, "input_grad_label_logit": input_grad,
        "train_losses": torch.tensor(losses),
    }
    for k, v in model.state_dict().items():
        ref["after_train." + k] = v.clone()
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    save_file(state, os.path.join(d, "model.safetensors"))
    save_file({k: v.contiguous() for k, v in ref.items()}, os.path.join(d, "reference.safetensors"),
              metadata={"optimizer": optimizer_name, "torch": torch.__version__})


if __name__ == "__main__":
    torch.manual_seed(7)
    make("smallcnn-bn", SmallCNNBN(), (1, 28, 28), "sgd")
    torch.manual_seed(8)
    make("cifarcnn", CifarCNN(), (3, 32, 32), "adam")
