"""The filing benchmark's baseline: a minimal Django view that inserts one row.

Installed and routed only when the environment variable BENCHMARKS=1 is set (config/settings.py,
config/urls.py), so it never ships in production. `manage.py bench_filing` starts its gunicorn with
BENCHMARKS=1 and migrates this app's table first.
"""
