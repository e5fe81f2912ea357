"""Feeding data to the network: the rows of any supported input as a dataset, and a batch
iterator that slices it once per minibatch."""

import numpy as np
import scipy.sparse as sp
import torch

from ._runtime import adapt_threads


class RowDataset(torch.utils.data.Dataset):
    """The rows of a dense array, a memory map, a sparse matrix or a tensor.

    Rows of an array or a sparse matrix become float32 tensors one batch at a time
    (:meth:`rows`): a ``numpy.memmap`` is read batch by batch and a scipy sparse matrix
    is densified batch by batch, so a fit never holds a converted copy of the whole.
    In-memory dense data is converted once into a float32 tensor instead (faster).

    ``conditions`` (a float32 tensor with a row per row of ``X``: the encoded ``y`` of a
    conditional model) are appended to each row that :meth:`rows` returns: the network
    then gets them with their rows from every batch iterator, as the trailing columns.
    """

    def __init__(self, X, conditions=None):
        self.X = X
        self.conditions = conditions

    def __len__(self):
        return self.X.shape[0]

    def __getitem__(self, i):
        return self.rows(slice(i, i + 1))[0]

    def rows(self, index):
        """Rows ``index`` (a slice or an integer tensor) as a float32 tensor, with their
        conditions appended where the dataset has them."""
        if torch.is_tensor(index):
            # Rows in increasing order: much faster to read from a memory map, and the
            # same order (so the same float sums) whatever holds the data. The order of
            # the samples inside a minibatch does not change its gradient.
            index = torch.sort(index).values
        batch = self._rows(index)
        if self.conditions is None:
            return batch
        conditions = self.conditions
        if torch.is_tensor(index):
            conditions = conditions.index_select(0, index.to(conditions.device))
        else:
            conditions = conditions[index]
        return torch.cat([batch, conditions.to(batch.device)], dim=1)

    def _rows(self, index):
        if torch.is_tensor(self.X):
            if torch.is_tensor(index):
                # a gather of whole rows: index_select takes about half the time of
                # X[index] (128 random rows of 784 floats: 38 against 85 us); same values
                return self.X.index_select(0, index.to(self.X.device))
            return self.X[index]
        if torch.is_tensor(index):
            index = index.numpy()
        batch = self.X[index]
        if sp.issparse(batch):
            batch = batch.toarray()
        return torch.from_numpy(np.array(batch, dtype=np.float32, order="C"))


def rows_source(dataset):
    """The :class:`RowDataset` behind ``dataset`` and the indices of its rows that
    ``dataset`` holds: a ``Subset``'s (a validation split), or None for all of them."""
    if isinstance(dataset, torch.utils.data.Subset):
        return dataset.dataset, torch.as_tensor(dataset.indices)
    return dataset, None


class TensorBatchIterator:
    """Minibatches of a :class:`RowDataset` (or a ``Subset`` of one), sliced per batch.

    skorch's default ``DataLoader`` fetches and collates every sample on its own; for
    data that sits in one array that is the slowest part of an epoch. This iterator
    indexes the array once per batch instead. Shuffling draws from torch's global
    generator, which the estimators seed inside a forked RNG. Each batch is
    ``(X_batch, X_batch)``: the target of an autoencoder is its input.
    """

    def __init__(self, dataset, batch_size, shuffle=False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self):
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        dataset, subset = rows_source(self.dataset)
        n_samples = len(self.dataset)
        order = torch.randperm(n_samples) if self.shuffle else torch.arange(n_samples)
        for start in range(0, n_samples, self.batch_size):
            if self.shuffle or subset is not None:
                index = order[start : start + self.batch_size]
                if subset is not None:
                    index = subset[index]
            else:
                index = slice(start, start + self.batch_size)  # a view, no copy
            batch = dataset.rows(index)
            adapt_threads()  # n_jobs="auto": fewer threads while other processes compute
            yield batch, batch
