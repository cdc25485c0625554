"""Benchmarks and drills, outside production: the commands bench_data, bench_queue, bench_filing and
reliability_outage, the host-speed probe they print, and the filing benchmark's baseline view (a
minimal Django view that inserts one row).

The app is installed everywhere but production (config/settings.py), so `manage.py help` in
production lists the ops commands only; the baseline view is routed only when the environment
variable BENCHMARKS=1 is set (config/urls.py), which `manage.py bench_filing` sets for its own
gunicorn server.
"""
