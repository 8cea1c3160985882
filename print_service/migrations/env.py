from common.migrate import run_env
from print_service.models import metadata

run_env(metadata)
