"""The generated open world (issue 24): its classes, scenes, tiny CLIP and protocol."""
