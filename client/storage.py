from whitenoise.storage import CompressedManifestStaticFilesStorage


class AppStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's compressed, content-hashed storage, which also rewrites the ``import``
    statements of the app's ES modules to the hashed names, so a deploy never mixes old
    and new modules and every file may be cached for good."""

    support_js_module_import_aggregation = True
