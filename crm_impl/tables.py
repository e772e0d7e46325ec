"""Every domain's tables, imported so SQLModel.metadata (Alembic, tests) sees all of them."""

from crm_impl.adoption import models as adoption_models
from crm_impl.budget import models as budget_models
from crm_impl.core import models as core_models
from crm_impl.core import saved_filters as core_saved_filters
from crm_impl.data_quality import models as data_quality_models
from crm_impl.defects import models as defects_models
from crm_impl.pipeline import models as pipeline_models
from crm_impl.rollout import models as rollout_models
from crm_impl.training import models as training_models

__all__ = [
    "adoption_models",
    "budget_models",
    "core_models",
    "core_saved_filters",
    "data_quality_models",
    "defects_models",
    "pipeline_models",
    "rollout_models",
    "training_models",
]
