"""Number of classes per image of a dataset (the paper's Figure 6) and the k / N it suggests."""
import math
from typing import Dict, List

import numpy as np


def annotation_loader(dataset) -> dict:
    """The dataset pipeline's annotation-loading transform config (any ``Load*Annotations``)."""
    for step in dataset.pipeline.transforms:
        if type(step).__name__.endswith('Annotations'):
            return step
    raise ValueError(f'{type(dataset).__name__} pipeline loads no annotations')


def classes_per_image(dataset) -> List[int]:
    """For each image, how many distinct classes its label map holds (ignore excluded)."""
    from tqdm import tqdm
    load = annotation_loader(dataset)
    counts = []
    for i in tqdm(range(len(dataset)), desc='label maps'):
        info = dataset.get_data_info(i)
        results = load(dict(seg_map_path=info['seg_map_path'], seg_fields=[],
                            reduce_zero_label=info.get('reduce_zero_label', False),
                            label_map=info.get('label_map')))
        seg = results['gt_seg_map']
        counts.append(int(np.unique(seg[seg != dataset.ignore_index]).size))
    return counts


def suggest_k(counts: List[int]) -> Dict[str, float]:
    """Mean, standard deviation and the suggested k = ceil(mean + 2 std) (paper, section 3.6)."""
    values = np.asarray(counts, dtype=np.float64)
    mean, std = float(values.mean()), float(values.std())
    return dict(images=len(values), mean=mean, std=std, max=float(values.max()),
                k=int(math.ceil(mean + 2 * std)))
