"""The reference reports (000-004): what each did and concluded, and each conclusion as comparisons.

Translated from the seeds this project grew out of. A claim is a set of comparisons between
named designs of its docs study (docs/studies/spaces/), all of which must hold; rules.py
decides each. A claim the rerun cannot measure says why instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

from docs.studies.tooling.rules import Expect

HIGHER, LOWER, SAME, NOT_LOWER = Expect.HIGHER, Expect.LOWER, Expect.SAME, Expect.NOT_LOWER


@dataclass(frozen=True)
class Part:
    """``metric`` of design ``a`` against design ``b``, paired over seeds, as claimed by ``expect``."""

    a: str
    b: str
    expect: Expect
    metric: str = "accuracy"  # a name in results.METRICS


@dataclass(frozen=True)
class Claim:
    text: str  # the report's conclusion, in its own terms
    parts: tuple[Part, ...] = ()
    note: str = ""  # what the rerun measures for it, when that is not plain from the parts
    not_measured: str = ""  # why the rerun cannot judge it (then parts is empty)


@dataclass(frozen=True)
class Reference:
    number: str
    folder: str  # the docs study's folder and space name (scripts/run_docs_studies.sh)
    title: str
    data: str  # the report's data set
    experiment: str  # what the report did
    rerun: str  # what the rerun changed, and why
    key: str  # the param naming a design in the study's space
    claims: tuple[Claim, ...] = field(default=())


def _all(a: tuple[str, ...], b: tuple[str, ...], expect: Expect, metric: str = "accuracy") -> tuple[Part, ...]:
    return tuple(Part(x, y, expect, metric) for x, y in product(a, b))


_ACT = ("relu", "swish", "gelu", "parelu", "dynamic_swish", "adaptive_gelu_mish")
_WITH_ADAMW = tuple(f"{a}/adamw" for a in _ACT)
_OPT = ("adamw", "sgd", "adam", "radam", "sophia", "lamb", "sgd+adam", "adamw+radam", "sgd+adam+radam")
_WITH_RELU = tuple(f"relu/{o}" for o in _OPT)
_COMBOS = ("sgd+adam", "adamw+radam", "sgd+adam+radam")

R000 = Reference(
    "000", "activation_optimizer", "activation functions × optimizers", "Tiny ImageNet",
    "An MLP (64×64×3 → 512 → 200, Xavier init, batch 64, 10 epochs) trained with every pairing of six activations "
    "(ReLU, Swish, GELU and the learnable PAReLU, DynamicSwish, AdaptiveGELUMish) and nine optimizers (SGD, Adam, "
    "AdamW, RAdam, Sophia, LAMB, and the combinations SGD+Adam, AdamW+RAdam, SGD+Adam+RAdam). Best: Swish + AdamW, "
    "82.4 % after 10 epochs.",
    "The same MLP on Fashion-MNIST (Tiny ImageNet cannot be had offline), along two lines through the report's grid "
    "that cross at ReLU + AdamW: every activation with AdamW, every optimizer with ReLU "
    "(docs/studies/spaces/activation_optimizer_designs.py); each optimizer at its default peak rate.",
    "design",
    (
        Claim("GELU and Swish give the best convergence.",
              _all(("gelu/adamw", "swish/adamw"), ("relu/adamw", "parelu/adamw", "dynamic_swish/adamw",
                                                   "adaptive_gelu_mish/adamw"), HIGHER),
              "Each of GELU and Swish against each other activation, all with AdamW."),
        Claim("(The question the report raised but did not settle:) the learnable activations beat ReLU.",
              _all(("parelu/adamw", "dynamic_swish/adamw", "adaptive_gelu_mish/adamw"), ("relu/adamw",), HIGHER)),
        Claim("Adam, RAdam and AdamW are the most robust optimizers.",
              _all(("relu/adam", "relu/radam", "relu/adamw"), ("relu/sgd", "relu/sophia", "relu/lamb"), HIGHER),
              "Measured as: each of the three ahead of each other single optimizer, all with ReLU; robustness over "
              "activations is not measured (each optimizer runs with ReLU only)."),
        Claim("Combinations gain stability but often overcomplicate training.",
              tuple(Part(f"relu/{c}", f"relu/{p}", LOWER) for c in _COMBOS for p in c.split("+")),
              "Measured as: every combination below each of its parts (overcomplicated); the seed-to-seed spread "
              "(stability) is in the table of designs."),
        Claim("Sophia needs further adaptation (LAMB is good for scalability).",
              _all(("relu/sophia",), ("relu/adam", "relu/adamw"), LOWER),
              "Measured as: Sophia at its default rate below Adam and AdamW; LAMB's scalability (large batches, many "
              "devices) is not tested by a one-machine, batch-64 rerun."),
        Claim("The best pair is Swish + AdamW (82.4 % on Tiny ImageNet after 10 epochs).",
              _all(("swish/adamw",), tuple(d for d in _WITH_ADAMW + _WITH_RELU if d != "swish/adamw"), HIGHER),
              "The report's 82 % is not comparable (another data set) and not credible for an MLP on Tiny ImageNet."),
    ),
)

R001 = Reference(
    "001", "architecture", "MLP vs CNN vs ResNet, kernels, depth, custom layers, residual blocks", "MNIST and CIFAR-10",
    "Fully connected nets, plain CNNs (kernel 3/5/7 or 1x1+3x3, depth 2 to 6+), ResNets (basic, bottleneck and wide "
    "blocks) and hand-written conv / attention / pooling layers, compared by accuracy, training time and stability.",
    "The `architecture` space's models on Fashion-MNIST (the nearest offline set to MNIST; CIFAR-10 cannot be had "
    "offline), as named designs that each change one thing from a small plain CNN, only those a conclusion needs "
    "(docs/studies/spaces/architecture_designs.py). Every trial records its per-layer gradient norms of epoch 1.",
    "design",
    (
        Claim("CNNs beat fully connected networks.", (Part("plain2", "mlp", HIGHER),)),
        Claim("ResNets improve on plain CNNs further.", _all(("resnet-basic",), ("plain4", "plain8"), HIGHER),
              "resnet-basic: 3 stages of 1 basic block (7 conv layers with skips), against the 4- and 8-block plain CNNs."),
        Claim("3x3 kernels are the best balance of accuracy and cost; 5x5 and 7x7 cost more time and are sometimes worse.",
              _all(("kernel5", "kernel7"), ("plain2",), HIGHER, "seconds_per_epoch")
              + _all(("plain2",), ("kernel5", "kernel7"), NOT_LOWER),
              "plain2 is the 3x3 network. Seconds per epoch were measured on CPU cores shared with other jobs."),
        Claim("A 1x1 + 3x3 pair cuts parameters and keeps the accuracy.",
              (Part("kernel1x1-3x3", "kernel5", LOWER, "n_params"), Part("kernel1x1-3x3", "kernel5", NOT_LOWER)),
              "Against the 5x5 kernel it stands in for (a similar receptive field)."),
        Claim("Deep plain CNNs (6+ layers) suffer from vanishing gradients; residual connections let deep networks train.",
              (Part("resnet-basic", "plain8-nobn", HIGHER), Part("plain8-nobn", "resnet-basic", LOWER, "gradient_ratio")),
              "plain8-nobn: 8 plain conv blocks without batch norm; the gradient ratio is the first conv layer's epoch-1 "
              "gradient norm over the last one's (below 1: less gradient reaches the input side)."),
        Claim("Custom layers (convolution, attention, pooling) give flexibility but need an exact backward pass.",
              (Part("conv-im2col", "plain2", SAME),),
              "conv-im2col is plain2 with a hand-written backward pass (checked by gradcheck in tests/models): an exact "
              "backward trains the same network equally well."),
        Claim("Bottleneck blocks keep the accuracy at lower cost; wide blocks are steadier; basic blocks add parameters.",
              not_measured="the bottleneck ResNet takes about 47 CPU-seconds per 10,000-image epoch, 3.5 times the "
                           "basic one, past what several seeds of every design afford here; report 002's page "
                           "compares optimizers on a bottleneck ResNet."),
    ),
)

R002 = Reference(
    "002", "resnet_optimizer", "ResNet-50 with AdaMax vs Adam", "Stanford Cars",
    "A ResNet-50 (about 23.5M parameters) trained from scratch with AdaMax and with Adam, compared by loss and F1.",
    "A bottleneck ResNet at CPU width (the `resnet_optimizer` space's `cpu_sized` network at depth 14: ResNet-50's "
    "own depth would take about 3 CPU-minutes per 10,000-image epoch here, depth 14 takes 55 seconds) on Fashion-MNIST, Adam and AdaMax each at "
    "its default peak rate (docs/studies/spaces/resnet_optimizer_cpu.py).",
    "design",
    (
        Claim("From the two runs it is hard to say whether Adam or AdaMax is better for ResNet-50.",
              (Part("adam", "adamax", SAME),),
              "Supported means the two are within one point of accuracy of each other (the interval of the "
              "difference lies inside ±1 point)."),
    ),
)

R003 = Reference(
    "003", "regularization", "regularizing a CIFAR-10 CNN without skips", "CIFAR-10",
    "A plain CNN grown from SimpleCNN (2 conv layers, 64.05 % test accuracy after 30 epochs) to NotSimpleCNN (3 conv "
    "layers with batch norm, 72.09 %), then pooling, Adam vs SGD, dropout and augmentation; the final network (3 conv "
    "+ batch norm + max-pooling, with augmentation) reached 80.90 %. Overfitting was read from training against "
    "validation loss.",
    "The `regularization` space's network on Fashion-MNIST, at the report's steps (docs/studies/spaces/"
    "regularization_steps.py): SimpleCNN (2 conv layers, no batch norm), 3 layers with batch norm, then one change "
    "each: average pooling, SGD, dropout 0.3, flip + crop augmentation. Every trial records training and validation "
    "loss per epoch.",
    "step",
    (
        Claim("More conv layers with batch norm beat the 2-layer SimpleCNN (64 % → 72 %).",
              (Part("2-three-layers-bn", "1-simple-cnn", HIGHER),)),
        Claim("The final network keeps max-pooling (the report compared max with average pooling).",
              (Part("2-three-layers-bn", "3-avg-pool", NOT_LOWER),)),
        Claim("Adam trains this network better than SGD (the final network uses Adam).",
              (Part("2-three-layers-bn", "4-sgd", HIGHER),)),
        Claim("The final network does without dropout.", (Part("2-three-layers-bn", "5-dropout", NOT_LOWER),),
              "Dropout 0.3."),
        Claim("Augmentation raises accuracy (the final network, 80.9 %) and curbs overfitting.",
              (Part("6-augment", "2-three-layers-bn", HIGHER),
               Part("6-augment", "2-three-layers-bn", LOWER, "overfit_gap")),
              "Flip + crop augmentation; overfitting as the final validation loss minus the final training loss."),
    ),
)

R004 = Reference(
    "004", "cnn", "Optuna over a CNN; SGD vs Adam; PyTorch vs ONNX Runtime", "CIFAR-10",
    "Optuna (100 trials) over n_layers 1-5, kernel 3-7, Adam / RMSprop / SGD and lr 1e-5…1e-1; SGD against Adam "
    "convergence from loss curves; the model exported to ONNX and compared with PyTorch (45.79 % accuracy both, "
    "0.84 ms vs 0.12 ms per inference).",
    "The `cnn` space's network at its defaults on Fashion-MNIST, with Adam and with SGD (docs/studies/spaces/"
    "cnn_designs.py); then `hpo export --onnx` of the best trial, checked on the test split once.",
    "design",
    (
        Claim("Adam converges faster and more steadily than SGD, whose loss goes up and down.",
              (Part("adam", "sgd", HIGHER, "first_epoch_accuracy"), Part("adam", "sgd", LOWER, "loss_rises")),
              "Faster: validation accuracy after epoch 1; steadier: how often the validation loss rose from one "
              "epoch to the next."),
        Claim("Optuna finds the best n_layers, kernel_size, optimizer and lr (the report printed no values).",
              not_measured="the report gives no values to compare with, and this rerun spends its budget on seeds "
                           "of the comparison above instead of a search (the `auto` space's page shows one)."),
    ),
)

REFERENCES: dict[str, Reference] = {r.number: r for r in (R000, R001, R002, R003, R004)}
# Folder -> report, in the order scripts/run_docs_studies.sh runs them: cheapest first, so a run
# cut short still documents most reports.
BY_FOLDER: dict[str, Reference] = {r.folder: r for r in (R004, R000, R003, R002, R001)}
