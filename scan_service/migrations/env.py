from common.migrate import run_env
from scan_service.models import metadata

run_env(metadata)
