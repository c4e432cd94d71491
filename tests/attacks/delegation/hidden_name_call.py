# The plain delegation, with the name built from pieces so the static scan cannot see it:
# the call reaches the disarmed function, and the tripwire names it.
import torch


def clip_grad_norm(parameters, max_norm):
    return getattr(torch.nn.utils, "clip" + "_grad_norm_")(parameters, max_norm)
