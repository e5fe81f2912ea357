"""The reading order of the gallery (sphinx-gallery's ``within_subsection_order``)."""

from sphinx_gallery.sorting import FileNameSortKey

ORDER = [
    "plot_reconstruction.py",
    "plot_conv_autoencoder.py",
    "plot_denoising.py",
    "plot_sparse_codes.py",
    "plot_vae_latent_space.py",
    "plot_conditional_vae.py",
    "plot_pretraining.py",
    "plot_pipeline_grid_search.py",
    "plot_features_for_classifiers.py",
    "plot_anomaly_detection.py",
    "plot_imputation.py",
    "plot_onnx_export.py",
]


class ExampleOrder(FileNameSortKey):
    """Examples listed in :data:`ORDER` first, in that order; any others after them."""

    def __call__(self, filename):
        if filename in ORDER:
            return f"{ORDER.index(filename):03d}"
        return f"999{filename}"
