"""The generation fixtures (PNG folders, the random-weight FID-Inception in a temporary TORCH_HOME), shared."""
from tests.generation.conftest import gen_data, torch_home  # noqa: F401 - pytest fixtures
