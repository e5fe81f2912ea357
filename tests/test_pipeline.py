"""Estimators inside scikit-learn's composition and model-selection tools."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from skautoenc import AutoEncoder

from .conftest import public_estimators, tiny


def test_grid_search_over_autoencoder_in_pipeline(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = Pipeline(
        [
            ("scale", MinMaxScaler(clip=True)),
            (
                "ae",
                AutoEncoder(
                    hidden_layer_sizes=(64,), max_iter=30, batch_size=32, random_state=0
                ),
            ),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    search = GridSearchCV(pipe, {"ae__n_components": [2, 16]}, cv=2, n_jobs=2)
    search.fit(X_train[:600], y_train[:600])
    # two codes cannot separate ten digits; sixteen can
    assert search.best_params_ == {"ae__n_components": 16}
    assert search.score(X_test, y_test) > 0.8


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_cross_val_score_without_y_uses_score(estimator_class, digits):
    X_train = digits[0][:300]
    scores = cross_val_score(tiny(estimator_class, n_components=4), X_train, cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))


@pytest.mark.parametrize("estimator_class", public_estimators())
def test_dataframe_in_gives_feature_names_and_pandas_out(estimator_class, small_X):
    df = pd.DataFrame(small_X, columns=[f"pixel_{i}" for i in range(small_X.shape[1])])
    est = tiny(estimator_class, n_components=3).fit(df)
    assert list(est.feature_names_in_) == list(df.columns)
    prefix = estimator_class.__name__.lower()
    assert list(est.get_feature_names_out()) == [f"{prefix}{i}" for i in range(3)]
    out = est.set_output(transform="pandas").transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [f"{prefix}{i}" for i in range(3)]
    assert out.index.equals(df.index)
    with pytest.warns(UserWarning, match="feature names"):
        est.transform(small_X)
