import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# The task engine, loaded when a web worker boots instead of by the first commit that wakes a
# worker (a filing's confirmation): that filing paid its import, 0.08-0.10 s on this host.
import config.celery  # noqa: E402, F401
