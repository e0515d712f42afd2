#!/usr/bin/env python3
"""Export a PyTorch smallcnn so i2x can read it:

    python3 examples/pytorch-export.py model.safetensors
    .build/release/i2x-train eval --checkpoint model.safetensors --arch smallcnn --dataset fashion-mnist

state_dict names (conv1.weight OIHW, fc.weight [out,in]) are what i2x expects.
"""
import sys
import torch
from safetensors.torch import save_file


class SmallCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(16, 32, 3, padding=1)
        self.conv3 = torch.nn.Conv2d(32, 64, 3, padding=1)
        self.fc = torch.nn.Linear(64, 10)


save_file({k: v.contiguous() for k, v in SmallCNN().state_dict().items()}, sys.argv[1] if len(sys.argv) > 1 else "model.safetensors")
