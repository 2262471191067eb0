"""Run profiles: ``full`` runs the notebook as written, ``smoke`` caps the work.

A profile is plain data handed to the capture prelude (as JSON) and recorded
in the manifest and the cache key. Adding a profile is adding an entry to
:data:`PROFILES`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from grader.errors import UsageError
from grader.settings import did_you_mean

__all__ = ["PROFILES", "Profile", "get_profile"]


class Profile(BaseModel):
    """Limits applied inside the kernel; ``None`` means no limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    max_epochs: int | None = Field(default=None, description="epochs per fit call")
    train_samples: int | None = Field(default=None, description="array samples reaching fit")
    pretrained_train_samples: int | None = Field(
        default=None,
        description="array samples reaching fit for a model with a pretrained base (the costly "
        "ones); default: train_samples",
    )
    val_samples: int | None = Field(default=None, description="array samples in validation_data")
    eval_samples: int | None = Field(default=None, description="array samples reaching evaluate")
    predict_samples: int | None = Field(
        default=None,
        description="samples predicted; the rest of the rows repeat them (shapes kept)",
    )
    max_steps: int | None = Field(
        default=None, description="batches per epoch for datasets/generators"
    )
    batchnorm_momentum: float | None = Field(
        default=None,
        description="momentum of BatchNormalization layers whose code leaves it at its default: "
        "a run of a few dozen steps cannot warm up the default 0.99's moving averages",
    )
    weights_fallback: bool = Field(
        default=False, description="missing pretrained weights -> random initialisation (recorded)"
    )
    synthetic_fallback: bool = Field(
        default=False,
        description="no CIFAR-10 in the store -> serve the synthetic dataset (recorded)",
    )


PROFILES: dict[str, Profile] = {
    "full": Profile(name="full", description="the notebook as written"),
    "smoke": Profile(
        name="smoke",
        description="3 epochs of at most 1024 samples per fit (512 with a pretrained base), "
        "BatchNormalization momentum 0.9 where the code leaves the default: does everything "
        "run, get found, and learn?",
        max_epochs=3,
        train_samples=1024,
        pretrained_train_samples=512,
        val_samples=256,
        eval_samples=1000,
        predict_samples=2000,
        max_steps=32,
        batchnorm_momentum=0.9,
        weights_fallback=True,
        synthetic_fallback=True,
    ),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise UsageError(
            f"unknown profile {name!r}{did_you_mean(name, PROFILES)}; "
            f"choose one of: {', '.join(PROFILES)}"
        ) from None
