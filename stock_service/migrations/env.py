from common.migrate import run_env
from stock_service.models import metadata

run_env(metadata)
