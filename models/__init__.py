"""Tortoise ORM models. One module per area; list new modules in `MODEL_MODULES`."""

MODEL_MODULES = ["models.asan", "models.identity", "models.documents", "models.letters"]
