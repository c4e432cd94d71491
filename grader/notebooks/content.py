"""What each self-study notebook teaches: prose, demos and which kata topics it collects.

The katas themselves (stubs, checks) are pulled from the catalogue by topic;
this module holds only the explanations and the demo code around them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Demo:
    """A markdown explanation followed by code cells (plots are tagged for the tests)."""

    text: str
    code: tuple[str, ...]
    plots: bool = True


@dataclass(frozen=True)
class Chapter:
    stem: str
    title: str
    intro: str
    topics: tuple[str, ...]
    before: tuple[Demo, ...] = ()  # demos shown before the exercises
    after: tuple[Demo, ...] = ()  # demos that use the exercises
    katas: tuple[str, ...] = field(default_factory=tuple)  # extra katas by slug, whatever their topic


SETUP = """import numpy as np
import torch
import matplotlib.pyplot as plt
from gradkata.notebook_check import check, warm_up

warm_up()  # start gradkata's sandboxed grader in the background"""

CLIPPING = Chapter(
    stem="01_clipping",
    title="Clipping by norm and by value",
    intro="""A gradient step moves every weight by `lr * grad`. When one batch produces a gradient a
hundred times longer than usual, that single step can throw the weights far away from everything
learned so far. Clipping puts a ceiling on the step before the optimizer takes it. There are two
common ceilings:

* **by norm**: treat all gradients as one long vector `g`; if its length `||g||` is above a
  threshold `tau`, shrink the whole vector to length `tau`, i.e. `g <- g / max(1, ||g|| / tau)`.
  The direction of the step is kept; only its length changes.
* **by value**: clamp every component to `[-c, c]` on its own. Cheap, but the components that hit
  the bound are cut while the others are not, so the direction can change a lot.

You will write both, first on NumPy vectors, then on PyTorch parameters the way
`torch.nn.utils.clip_grad_norm_` and `clip_grad_value_` do it. Each exercise ends with a check
cell: it sends the source of your function to gradkata's sandboxed grader, which runs the hidden
tests against PyTorch and explains what it found.""",
    topics=("clipping",),
    after=(Demo(
        text="""### Before and after, side by side

A random 8-component "gradient" with a few large entries, clipped by norm with `tau = 5` and by
value with `c = 2` using *your* functions. Look at the large entry: norm clipping shrinks every
bar by the same factor, value clipping flattens only the bars that stick out.""",
        code=("""rng = np.random.default_rng(0)
g = rng.normal(0.0, 5.0, size=8)
clipped = {}
try:
    clipped["by norm (tau = 5)"], norm_before, norm_after = clip_by_norm(g, 5.0)
    clipped["by value (c = 2)"] = clip_by_value(g, 2.0)
    print(f"||g|| = {norm_before:.3f}; after norm clipping {norm_after:.3f}; "
          f"after value clipping {np.linalg.norm(clipped['by value (c = 2)']):.3f}")
except NotImplementedError:
    print("Implement clip_by_norm and clip_by_value above to see what they do; showing g only.")""",
              """fig, ax = plt.subplots(figsize=(8, 3.5))
index = np.arange(len(g))
width = 0.8 / (1 + len(clipped))
ax.bar(index, g, width, label="original g")
for k, (label, values) in enumerate(clipped.items(), 1):
    ax.bar(index + k * width, values, width, label=label)
ax.axhline(0, color="black", linewidth=0.5)
ax.set_xlabel("component")
ax.set_ylabel("value")
ax.set_title("A gradient before and after clipping")
ax.legend()
plt.show()"""),
    ),),
)

EXPLODING = Chapter(
    stem="02_exploding_gradients",
    title="Why gradients explode",
    intro="""Back-propagation through time sends the error from the last step `T` back to step `t`
through one Jacobian per step in between:

`dL/dh_t = dL/dh_T * (dh_T/dh_{T-1}) * ... * (dh_{t+1}/dh_t)`

For a recurrent layer `h_{k+1} = W_hh h_k + W_xh x_k` every factor is `W_hh`. A product of
`T - t` copies of the same matrix behaves like a power: when the matrix stretches vectors
(`||W_hh|| > 1`) the gradient grows geometrically with the distance, when it shrinks them
(`||W_hh|| < 1`) the gradient fades just as fast. Long sequences make the exponent large, which
is why RNNs were the first models to need clipping. Non-linearities such as `tanh` only
multiply in more factors of at most 1; they can tame the growth but not remove it.""",
    topics=("exploding", "rnn"),
    before=(Demo(
        text="""### Measuring it

`gradkata.demos.bptt_gradient_norms` builds `W_hh = s * Q` with `Q` a random orthogonal matrix, so
`||W_hh|| = s` exactly, and multiplies the Jacobians of a 60-step recurrence from the output end
back, recording the norm of the product `dh_T/dh_{T-k}` for every distance `k`. On a log scale,
geometric growth or decay is a straight line of slope `log(s)`. The right panel puts a `tanh`
between the steps: each Jacobian gains a factor `diag(1 - h^2)` of at most 1, which bends every
line down. The point where growth starts moves above 1, but a large enough `W_hh` still
explodes.""",
        code=("""from gradkata.demos import bptt_gradient_norms

SCALES = (0.9, 1.0, 1.1, 1.2, 1.5)
STEPS = 60
curves = {(s, kind): bptt_gradient_norms(s, STEPS, nonlinearity=kind) for s in SCALES for kind in ("linear", "tanh")}
for s in SCALES:
    print(f"||W_hh|| = {s}: after {STEPS} steps the gradient is scaled by {curves[(s, 'linear')][-1]:.3g} "
          f"(linear), {curves[(s, 'tanh')][-1]:.3g} (tanh)")""",
              """fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, kind in zip(axes, ("linear", "tanh")):
    for s in SCALES:
        ax.semilogy(curves[(s, kind)], label=f"||W_hh|| = {s}")
    ax.set_xlabel("steps back from the end of the sequence")
    ax.set_title(f"{kind} recurrence")
axes[0].set_ylabel("||dh_T / dh_(T-k)|| (log scale)")
axes[0].legend()
fig.suptitle("Back-propagation through time multiplies one Jacobian per step")
plt.show()"""),
    ),),
)

TRAINING = Chapter(
    stem="03_training_with_clipping",
    title="Training with clipping",
    intro="""Inside a training step, clipping has exactly one correct place: after `loss.backward()`
has filled the gradients and before `optimizer.step()` uses them. Clip earlier and there is
nothing to clip; clip later and the optimizer has already moved the weights with the raw
gradients. `clip_grad_norm_` returns the norm it measured *before* clipping, which is the number
worth logging: how often it exceeds the threshold (the clip rate) tells you whether the
threshold is doing anything. A clip rate of a few percent to a quarter of the steps is a
common target; clipping nearly every step means the threshold (or the learning rate) is
wrong.""",
    topics=("training", "monitoring"),
    katas=("gradient_monitor", "train_rnn_with_clipping"),
    after=(Demo(
        text="""### A gradient-norm history

A small regression network trained with a deliberately high learning rate. Every step logs the
pre-clip norm with *your* `GradientMonitor`, between `backward()` and the clipping, then clips
with PyTorch and steps. The monitor's `summary()` gives the clip rate and its `plot()` draws the
history with the threshold; the red dots mark the steps that were clipped. Expect a clip rate far
above the usual target: with this learning rate, `max_norm = 1` clips most steps, a sign that the
threshold should go up or the learning rate down.""",
        code=("""MAX_NORM = 1.0


def train_and_monitor(monitor, steps=150, max_norm=MAX_NORM, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.2)
    x = torch.randn(256, 8)
    y = (x[:, :1] * 3).sin() + 0.3 * torch.randn(256, 1)
    for _ in range(steps):
        batch = torch.randint(0, 256, (16,))
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x[batch]), y[batch]).backward()
        monitor.log(model, max_norm)  # the raw gradients: before clipping
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
    return monitor


try:
    monitor = train_and_monitor(GradientMonitor())
    stats = monitor.summary()
    print(f"clip rate {stats['clip_rate']:.0%} of {stats['total_steps']} steps")
except NotImplementedError:
    monitor = None
    print("Implement GradientMonitor above to see the norm history of a training run.")""",
              """if monitor is not None:
    fig = monitor.plot()
    ax = fig.axes[0]
    history = np.asarray(monitor.norms)
    clipped_steps = np.flatnonzero(history > MAX_NORM)
    ax.scatter(clipped_steps, history[clipped_steps], s=8, color="red", label="clipped steps")
    ax.set_title(f"Clip rate {len(clipped_steps) / len(history):.0%}")
    ax.legend()
    plt.show()"""),
    ),),
)

THRESHOLD = Chapter(
    stem="04_choosing_a_threshold",
    title="Choosing a clipping threshold",
    intro="""There is no universal `max_norm`. Published recipes range from about 0.5 for deep RNNs to
1 for Transformers and up to 10 for LSTMs, but the right value depends on the model, the loss
scale and the batch size. A practical way to pick it: train for a while *without* clipping,
record the global gradient norm of every batch, and look at the distribution. Setting the
threshold at a high percentile (the 90th is a common choice) clips only the rare outliers and
leaves ordinary steps alone. Adaptive clippers keep doing this during training, recomputing the
percentile over the history as it grows.""",
    topics=("threshold", "adaptive"),
    katas=("find_clipping_threshold", "adaptive_clipper", "adaptive_grad_clip"),
    before=(Demo(
        text="""### The distribution of gradient norms

Norms of 300 batches of a small network, without clipping. Most batches sit in a narrow band;
the long right tail is what clipping is for. The dashed lines mark the median and the 90th
percentile, the suggested `max_norm`.""",
        code=("""def unclipped_norms(batches=300, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    norms = []
    for _ in range(batches):
        x = torch.randn(16, 8)
        # Heavy-tailed targets: now and then a batch with a huge error.
        y = x.sum(dim=1, keepdim=True) + torch.distributions.StudentT(2.0).sample((16, 1))
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        norms.append(float(torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))))
        optimizer.step()
    return np.array(norms)

norms = unclipped_norms()
suggested = np.percentile(norms, 90)
print(f"median {np.median(norms):.2f}, 90th percentile {suggested:.2f}, max {norms.max():.2f}")""",
              """fig, ax = plt.subplots(figsize=(8, 3.5))
ax.hist(norms, bins=60, color="tab:blue", alpha=0.8)
ax.axvline(np.median(norms), color="black", linestyle=":", label=f"median {np.median(norms):.2f}")
ax.axvline(suggested, color="red", linestyle="--", label=f"90th percentile {suggested:.2f} (suggested max_norm)")
ax.set_xlabel("global gradient norm")
ax.set_ylabel("batches")
ax.set_title("Where to put the threshold")
ax.legend()
plt.show()"""),
    ),),
)

CHECKING = Chapter(
    stem="05_gradient_checking",
    title="Gradient checking",
    intro="""Clipping protects training from gradients that are too large; gradient checking protects
you from gradients that are simply wrong. The idea: nudge one parameter by `+eps` and `-eps`,
evaluate the loss both times, and divide the difference by `2 * eps`. This central difference
agrees with the true derivative up to an error of order `eps**2`, so it is a reliable yardstick
for a hand-written backward pass. Compare the two gradient vectors with the relative error
`||a - b|| / (||a|| + ||b|| + 1e-12)`: in float64 a correct gradient gives around `1e-7` or
less. Work in float64: in float32 the rounding error of each loss evaluation, divided by a tiny
`2 * eps`, swamps the comparison (PyTorch's `torch.autograd.gradcheck` warns about this too).""",
    topics=("debugging", "checking"),
    katas=("gradient_check",),
    after=(Demo(
        text="""### How small should eps be?

Central differences of the quadratic loss `J(theta) = 0.5 theta^T A theta + b^T theta` with your
`numerical_gradient`, compared with the exact gradient for a range of `eps`. Too large and the
approximation error dominates; too small and rounding takes over. float32 has far fewer digits
to spare than float64.""",
        code=("""def eps_sweep(dtype, eps_values, seed=0):
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(5, 5, generator=gen, dtype=torch.float64)
    a = (a.T @ a + 0.1 * torch.eye(5, dtype=torch.float64)).to(dtype)
    b = torch.randn(5, generator=gen, dtype=torch.float64).to(dtype)
    theta = torch.randn(5, generator=gen, dtype=torch.float64).to(dtype)
    exact = (0.5 * (a + a.T) @ theta + b).double()
    loss = lambda t: 0.5 * t @ (a @ t) + b @ t
    return [relative_error(numerical_gradient(loss, theta.clone(), eps).double(), exact) for eps in eps_values]

eps_values = np.logspace(-10, -1, 19)
try:
    sweeps = {str(dtype): eps_sweep(dtype, eps_values) for dtype in (torch.float64, torch.float32)}
except NotImplementedError:
    sweeps = None
    print("Implement numerical_gradient and relative_error above to see the sweep.")""",
              """if sweeps is not None:
    fig, ax = plt.subplots(figsize=(8, 4))
    for label, errors in sweeps.items():
        ax.loglog(eps_values, np.maximum(errors, 1e-17), marker="o", markersize=3, label=label)
    ax.axhline(1e-7, color="gray", linestyle="--", label="1e-7: gradients match")
    ax.set_xlabel("eps")
    ax.set_ylabel("relative error")
    ax.set_title("Central differences: truncation vs rounding")
    ax.legend()
    plt.show()"""),
    ),),
)

PITFALLS = Chapter(
    stem="06_amp_and_accumulation",
    title="Clipping with mixed precision and gradient accumulation",
    intro="""Two training tricks change what "the gradient" means at the moment you clip it.

**Mixed precision (AMP).** `GradScaler` multiplies the loss by a large factor (65536 to start)
so that small float16 gradients do not underflow. The gradients after `backward()` are therefore
scaled too. Clipping them as they are compares a norm 65536 times too large with your threshold:
effectively you clip at `max_norm / 65536`. The fix is the order
`scaler.scale(loss).backward()`, `scaler.unscale_(optimizer)`, clip, `scaler.step(optimizer)`,
`scaler.update()`. `unscale_` may run only once per step, and `scaler.step` knows not to unscale
again. In float16 itself a norm above 65504 becomes `inf`, so compute norms in float32.

**Gradient accumulation.** With `k` micro-batches per optimizer step, the gradients add up
over `k` backward passes and the optimizer steps once. Clip once, after the last micro-batch:
clipping each micro-batch clips partial sums, which is a different (and batch-order dependent)
update.""",
    topics=("amp", "accumulation", "pitfalls", "mixed_precision"),
    katas=("train_step_accumulate", "train_step_amp"),
    before=(Demo(
        text="""### Clipping once versus clipping every micro-batch

Two micro-batch gradients accumulated into one step, with `max_norm = 1`. Clipping the sum once
and clipping each part before adding them give different updates, in length and in direction.""",
        code=("""def clip_vector(v, max_norm):
    return v * min(1.0, max_norm / (np.linalg.norm(v) + 1e-6))

micro = [np.array([-1.5, 0.5]), np.array([1.5, 2.0])]
once = clip_vector(sum(micro), 1.0)
per_micro = sum(clip_vector(m, 1.0) for m in micro)
print("clip the accumulated gradient once:", np.round(once, 3))
print("clip every micro-batch:           ", np.round(per_micro, 3))""",
              """fig, ax = plt.subplots(figsize=(5, 5))
for vec, label, color in ((sum(micro), "accumulated, unclipped", "gray"),
                          (once, "clipped once (correct)", "tab:green"),
                          (per_micro, "clipped per micro-batch", "tab:red")):
    ax.annotate("", xy=vec, xytext=(0, 0), arrowprops=dict(arrowstyle="->", color=color, linewidth=2))
    ax.plot([], [], color=color, label=label)
ax.add_patch(plt.Circle((0, 0), 1.0, fill=False, linestyle="--", color="black"))
ax.set_xlim(-1.5, 1.5)
ax.set_ylim(-0.5, 2.7)
ax.set_aspect("equal")
ax.set_title("max_norm = 1 (dashed circle)")
ax.legend(loc="upper left")
plt.show()"""),
    ),),
)

LLM = Chapter(
    stem="07_clipping_in_llm_training",
    title="Clipping as large-model training does it: across ranks, and against spikes",
    intro=""""Clip by global norm" means the norm of *every* gradient of the model. In large-model
training the model does not fit on one device: its parameters are sharded over ranks (tensor,
pipeline or fully sharded data parallelism), and no rank holds all the gradients. Each rank can only
compute a partial sum, so the global norm needs a collective:

* every rank sums the **squares** of its own gradients (in float32 even for bf16/fp16 gradients),
  the ranks `all_reduce` that partial sum with `SUM`, and every rank takes the square root. All-reducing
  the *norms* instead adds lengths, not squares: `sqrt(a^2 + b^2)` is not `a + b`;
* a parameter that every rank holds a full copy of (a LayerNorm weight under tensor parallelism, a tied
  embedding) must be counted **once**, not once per rank: Megatron-LM counts such parameters only on
  tensor-parallel rank 0, and FSDP adds the unsharded part locally after the all-reduce;
* the inf-norm reduces with `MAX`, not `SUM`; the average (`AVG`) is never right for a norm;
* a rank whose shard has no gradient this step still joins the collective with a zero: a rank that
  skips it leaves every other rank waiting forever;
* every rank then scales its own gradients by the same `min(1, max_norm / (norm + 1e-6))`.

PyTorch's own `clip_grad_norm_` does all of this without a single host synchronisation: it multiplies
by a clamped coefficient instead of testing `if coef < 1:` (a test that makes the CPU wait for the GPU).
The grader measures this for your clipping code (host syncs, operator count, extra memory) and shows
it next to PyTorch in the performance notes.

A fixed `max_norm` also has a weakness of its own: the gradient norm of a long run drifts by an order
of magnitude, so a threshold that catches spikes early clips every step later, or one that suits late
training lets early spikes through. **ZClip** (Kumar et al., 2025) makes the threshold follow the run:
it keeps an exponential moving average of the norm's mean and variance (`alpha = 0.97`), and after a
warm-up (25 steps) it treats a norm whose z-score `(g - mean) / std` exceeds 2.5 as a spike, clipping
it to `mean + 2.5 * std`. The statistics are updated with the *clipped* norm, so a spike cannot widen
the threshold for the next one.""",
    topics=("llm", "distributed"),
    katas=("zclip",),
    before=(Demo(
        text="""### One model, four ranks: which sum is the global norm?

A model of 4000 numbers sharded over four ranks, plus 500 replicated numbers (LayerNorm weights, a bias) that
every rank holds a copy of. Only one way of combining the ranks' partial results gives the norm of the
whole model; the others are the usual mistakes.""",
        code=("""rng = np.random.default_rng(0)
shards = [rng.normal(size=1000) for _ in range(4)]   # each rank's own part of the model
replicated = rng.normal(size=500)                     # the same on every rank
whole = np.concatenate(shards + [replicated])

true_norm = np.linalg.norm(whole)
local = [np.sum(s ** 2) for s in shards]             # what each rank can compute alone
candidates = {
    "sum of squares, replicated once": np.sqrt(sum(local) + np.sum(replicated ** 2)),
    "sum of squares, replicated on every rank": np.sqrt(sum(l + np.sum(replicated ** 2) for l in local)),
    "sum of the ranks' norms": sum(np.sqrt(l) for l in local) + np.linalg.norm(replicated),
    "rank 0's local norm only": np.sqrt(local[0] + np.sum(replicated ** 2)),
    "average instead of sum": np.sqrt(np.mean(local) + np.sum(replicated ** 2)),
}
for name, value in candidates.items():
    print(f"{name:42} {value:8.3f}   ({value / true_norm:.2f} x the true norm)")""",
              """fig, ax = plt.subplots(figsize=(8, 3.5))
names = list(candidates)
ax.barh(names, [candidates[n] / true_norm for n in names],
        color=["tab:green"] + ["tab:red"] * (len(names) - 1))
ax.axvline(1.0, color="black", linestyle="--")
ax.invert_yaxis()
ax.set_xlabel("computed norm / true global norm")
ax.set_title("Combining four ranks' gradients")
plt.tight_layout()
plt.show()"""),
    ),),
    after=(Demo(
        text="""### ZClip's threshold follows the run

A norm trace as long runs show it: a slow drift downwards, noise, and a few spikes. With your `ZClip`
(no ceiling, so only the z-score acts), the red line is the spike threshold `mean + 2.5 * std` each step
was judged against; the blue line is the norm after clipping, what `step` returned. Every statistic is
rebuilt from the returned norms, which are exactly what the EMA consumes.""",
        code=("""def spiky_trace(steps=300, seed=0):
    noise = np.random.default_rng(seed)
    t = np.arange(steps)
    norms = (2.0 * np.exp(-t / 150) + 0.5) * np.exp(noise.normal(0.0, 0.08, size=steps))
    for i in noise.choice(np.arange(40, steps), size=8, replace=False):
        norms[i] *= noise.uniform(3.0, 10.0)
    return norms


def run_zclip(norms, alpha=0.97, z_thresh=2.5, warmup=25):
    torch.manual_seed(0)
    model = torch.nn.Linear(16, 4).double()
    direction = [torch.randn_like(p) for p in model.parameters()]
    scale = torch.sqrt(sum((d ** 2).sum() for d in direction))
    clipper = ZClip(alpha=alpha, z_thresh=z_thresh, max_grad_norm=None, warmup_steps=warmup)
    used = []
    for g in norms:
        for p, d in zip(model.parameters(), direction):
            p.grad = d * (float(g) / scale)      # a gradient whose global norm is g
        used.append(clipper.step(model))
    # The threshold each step saw, rebuilt from the norms the EMA was fed.
    mean, var = np.mean(norms[:warmup]), np.var(norms[:warmup])
    thresholds = [np.nan] * warmup
    for u in used[warmup:]:
        thresholds.append(mean + z_thresh * np.sqrt(var))
        mean = alpha * mean + (1 - alpha) * u
        var = alpha * var + (1 - alpha) * (u - mean) ** 2
    return np.array(used), np.array(thresholds)


norms = spiky_trace()
try:
    used, thresholds = run_zclip(norms)
    print(f"steps clipped: {int(np.sum(used < 0.999 * norms))} of {len(norms)}")
except NotImplementedError:
    used = None
    print("Implement ZClip above to see its threshold.")""",
              """fig, ax = plt.subplots(figsize=(9, 4))
ax.plot(norms, color="gray", alpha=0.6, label="gradient norm (before clipping)")
if used is not None:
    ax.plot(used, color="tab:blue", label="after ZClip")
    ax.plot(thresholds, color="tab:red", linestyle="--", label="spike threshold mean + 2.5 std")
ax.axvspan(0, 25, color="gold", alpha=0.2, label="warm-up")
ax.set_yscale("log")
ax.set_xlabel("step")
ax.set_ylabel("global gradient norm")
ax.set_title("ZClip: a threshold that follows the run")
ax.legend(loc="upper right")
plt.show()"""),
    ),),
)

CHAPTERS = (CLIPPING, EXPLODING, TRAINING, THRESHOLD, CHECKING, PITFALLS, LLM)
OTHERS = Chapter(stem="08_more_katas", title="More katas", intro="Katas that belong to no chapter above.",
                 topics=())
