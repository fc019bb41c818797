"""The peers' ResNet-50 for TorchServe's image_classifier handler (torchvision's architecture)."""
from torchvision.models.resnet import Bottleneck, ResNet


class ResNet50(ResNet):
    def __init__(self):
        super().__init__(Bottleneck, [3, 4, 6, 3])
