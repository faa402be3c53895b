"""Built-in components, one module per implementation; importing this registers them."""

from textedit.components.discriminator import attngan  # noqa: F401
from textedit.components.discriminator import sisgan as sisgan_discriminator  # noqa: F401
from textedit.components.discriminator import tagan  # noqa: F401
from textedit.components.generator import attngan as attngan_generator  # noqa: F401
from textedit.components.generator import gan_int_cls  # noqa: F401
from textedit.components.generator import manigan  # noqa: F401
from textedit.components.generator import mimnet  # noqa: F401
from textedit.components.generator import sisgan as sisgan_generator  # noqa: F401
from textedit.components.generator import tagan as tagan_generator  # noqa: F401
from textedit.components.image_encoder import inception, small_cnn  # noqa: F401
from textedit.components.localizer import everywhere, tlu  # noqa: F401
from textedit.components.memory_bank import key_value  # noqa: F401
from textedit.components.structure_extractor import edge_cnn, timm_edge  # noqa: F401
from textedit.components.text_encoder import bilstm, frozen  # noqa: F401
