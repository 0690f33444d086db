"""Offensive-language classifiers that run offline, behind :class:`bot.ports.Classifier`.

``ProfanityCheck`` wraps alt-profanity-check (a linear SVM over word n-grams that ships its
model); only :mod:`bot.classifier._profanity` imports that package.
"""

from bot.classifier._profanity import ProfanityCheck

__all__ = ["ProfanityCheck"]
