"""A MIM-Net preset that uses this package's localizer by its qualified name (a bare name
would become ambiguous if another plug-in declared a ``spatial_prior`` too)."""

from textedit import Preset


def _config() -> dict:
    from textedit.registry.kinds import get_registry

    base = get_registry("model").get("mimnet_64")
    return base.config_dict(
        localizer={"type": "textedit-plugin-example:spatial_prior", "prior_size": 8}
    )


MIMNET_64_SPATIAL_PRIOR = Preset(
    name="mimnet_64_spatial_prior",
    composition="mimnet",
    config=_config,
    description="mimnet_64 with the spatial_prior localizer of textedit-plugin-example",
)
