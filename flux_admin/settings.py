"""Flux-Gate settings: one module, switched by the environment.

FLUX_ENV chooses the profile: ``development`` (the default, what `make run`
uses) or ``production``. Every connection setting comes from the environment
with a default that matches the native stack (bin/stack) and compose.yaml.
Under pytest (which sets PYTEST_VERSION) the defaults move to separate Redis
databases and Kafka topics, so a test run never touches the demo's data.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured

from flux_admin.env import database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

FLUX_ENV = env_str("FLUX_ENV", "development")
if FLUX_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"FLUX_ENV={FLUX_ENV!r}: use development or production")
PRODUCTION = FLUX_ENV == "production"
TESTING = "PYTEST_VERSION" in os.environ

# --- security -----------------------------------------------------------------

DEVELOPMENT_SECRET_KEY = "flux-gate-development-key-not-for-production"
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else DEVELOPMENT_SECRET_KEY)
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "production needs SECRET_KEY set to a random value of at least 32 characters, not the development key"
    )
DEBUG = env_bool("DEBUG", not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG shows tracebacks and settings to anyone: it is refused in production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTTPS. granian listens only on Unix sockets that nginx (bin/proxy) reaches, and
# nginx sets X-Forwarded-Proto on every request (its own scheme, or with
# FLUX_PROXY_TRUST_FORWARDED_PROTO the one a TLS terminator in front of it sent):
# production trusts that header to tell HTTPS. The buy fast lane follows the same
# settings (orders/buy/lane.py).
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SECURE_PROXY_SSL_HEADER", PRODUCTION) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 86400 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)

# --- applications -------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    # django-ninja's templates and static files: with it installed, /api/docs serves
    # its bundled Swagger UI from STATIC_URL; without it ninja falls back to a CDN.
    "ninja",
    # Sign-in throttling (below, "sign-in").
    "axes",
    "sales",
    "orders",
    "waitingroom",
    "dashboard",
    # manage.py rehearse and its report's template.
    "rehearsal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "flux_admin.middleware.RefuseNulCharacters",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "waitingroom.language.ShopperLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: answers a locked-out sign-in.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "flux_admin.urls"
WSGI_APPLICATION = "flux_admin.wsgi.application"
ASGI_APPLICATION = "flux_admin.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- data stores --------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL", "postgres://flux:flux@127.0.0.1:5432/flux")
DATABASES = {"default": database_from_url(DATABASE_URL)}
# Web threads keep their connection between requests; health checks drop a
# connection that died with a PostgreSQL restart instead of failing a request.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["OPTIONS"] = {"connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 3)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Separate Redis databases for the live sale state, the Celery broker and the
# Channels layer; tests use their own three.
_redis_db_base = 9 if TESTING else 0
REDIS_URL = env_str("REDIS_URL", f"redis://127.0.0.1:6379/{_redis_db_base}")
REDIS_SOCKET_TIMEOUT = float(env_str("REDIS_SOCKET_TIMEOUT", "2"))
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", f"redis://127.0.0.1:6379/{_redis_db_base + 1}")
CHANNELS_REDIS_URL = env_str("CHANNELS_REDIS_URL", f"redis://127.0.0.1:6379/{_redis_db_base + 2}")

# High availability (README, "High availability"; `bin/stack env --ha` prints these).
# REDIS_SENTINELS (host:port,...) turns on Redis through Sentinel: every client asks
# the Sentinels which node is the primary of REDIS_SENTINEL_MASTER and follows a
# failover by itself; the three URLs above then give only their database numbers.
REDIS_SENTINELS = env_list("REDIS_SENTINELS", [])
REDIS_SENTINEL_MASTER = env_str("REDIS_SENTINEL_MASTER", "flux")
# The buy decision is answered only once this many replicas hold it (Redis WAIT on
# the decision's own connection, pipelined with it), waiting at most the timeout;
# short of that, the shopper is told 503 and the same key decides again on retry
# (orders/buy/decision.py). 0: no wait (a single Redis).
REDIS_WAIT_REPLICAS = env_int("REDIS_WAIT_REPLICAS", 0)
REDIS_WAIT_TIMEOUT_MS = env_int("REDIS_WAIT_TIMEOUT_MS", 500)
if REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT_MS >= REDIS_SOCKET_TIMEOUT * 1000:
    raise ImproperlyConfigured("REDIS_WAIT_TIMEOUT_MS must be shorter than REDIS_SOCKET_TIMEOUT")


def _redis_db(url: str) -> int:
    return int(urlsplit(url).path.strip("/") or 0)


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ImproperlyConfigured(f"REDIS_SENTINELS: {address!r} is not host:port")
    return host, int(port)


REDIS_SENTINEL_ADDRESSES = [_host_port(address) for address in REDIS_SENTINELS]
REDIS_DB = _redis_db(REDIS_URL)

KAFKA_BOOTSTRAP_SERVERS = env_str("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
KAFKA_TOPIC_PREFIX = env_str("KAFKA_TOPIC_PREFIX", "test." if TESTING else "")
KAFKA_ORDERS_TOPIC = f"{KAFKA_TOPIC_PREFIX}orders"
KAFKA_ORDERS_DLQ_TOPIC = f"{KAFKA_TOPIC_PREFIX}orders.dlq"
KAFKA_ORDERS_PARTITIONS = env_int("KAFKA_ORDERS_PARTITIONS", 6)
# The topics' copies (`manage.py kafka_topics`): 1 on the single node; 3 and 2 on the
# HA topology, where an order acknowledged (acks=all) is on at least two brokers.
KAFKA_REPLICATION_FACTOR = env_int("KAFKA_REPLICATION_FACTOR", 1)
KAFKA_MIN_INSYNC_REPLICAS = env_int("KAFKA_MIN_INSYNC_REPLICAS", 1)
# How long the producer gathers messages into one request to the broker.
KAFKA_PRODUCER_LINGER_MS = env_int("KAFKA_PRODUCER_LINGER_MS", 0)

# Redis pub/sub, not channels_redis's list-based core layer: the waiting room sends one
# message per sale per tick to a group of possibly thousands of sockets. The core
# layer's group_send pushes a copy into every member's list in Redis (work per
# shopper); pub/sub PUBLISHes once per group and each daphne process fans the
# message out to its own sockets. Pub/sub delivers at most once, which suits ticks
# (the next one supersedes a lost one). PUBLISH ignores the database number, so
# tests get their own prefix.
_channels_host: object = CHANNELS_REDIS_URL
if REDIS_SENTINELS:
    _channels_host = {
        "master_name": REDIS_SENTINEL_MASTER,
        "sentinels": REDIS_SENTINEL_ADDRESSES,
        "db": _redis_db(CHANNELS_REDIS_URL),
    }
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [_channels_host], "prefix": "test.asgi" if TESTING else "asgi"},
    }
}

# --- Celery (flux_admin/celery.py reads the CELERY_* names) ---------------------

if REDIS_SENTINELS:
    # kombu's Sentinel transport: the Sentinels in turn, then the primary they name.
    CELERY_BROKER_URL = ";".join(
        f"sentinel://{host}:{port}/{_redis_db(CELERY_BROKER_URL)}" for host, port in REDIS_SENTINEL_ADDRESSES
    )
    CELERY_BROKER_TRANSPORT_OPTIONS = {"master_name": REDIS_SENTINEL_MASTER}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# --- the rest -------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

# --- sign-in throttling (django-axes) ------------------------------------------------
# Failed sign-ins are counted per merchant name and client address (in PostgreSQL,
# shared by every web process): after LOGIN_FAILURE_LIMIT failures that pair is
# refused, the right password included, for LOGIN_LOCKOUT_MINUTES. Per pair, not
# per name alone, so that an attacker cannot lock a merchant out of their console
# from elsewhere; a guesser rotating addresses is slowed by each one's limit.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "flux_admin.auth.sign_in_address"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # failures are what count; no row per successful sign-in
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
# The shopper pages' languages: English, and one per translation file in locale/
# (waitingroom/language.py). A new language is one file: locale/<code>/LC_MESSAGES/django.po.
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGES = [
    ("en", "English"),
    *(
        (po.parent.parent.name, LANG_INFO[po.parent.parent.name]["name"])
        for po in sorted((BASE_DIR / "locale").glob("*/LC_MESSAGES/django.po"))
    ),
]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # The sweep runs every second: Celery's per-task lines would drown the log.
        **{
            name: {"level": "WARNING"}
            for name in (
                "celery.app.trace",
                "celery.worker.strategy",
                "celery.beat",
                "kafka",
                "confluent_kafka",
                # django-axes says at INFO that each successful sign-in reset no failures.
                "axes",
            )
        },
        # A 409 sold out or a 302 to the waiting room is the buy API's everyday answer,
        # not a warning: logging each one would cost more than deciding it. 5xx still log.
        "django.request": {"level": "ERROR"},
    },
}

CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# The consumer group of `manage.py consume_orders`.
KAFKA_ORDERS_GROUP = env_str("KAFKA_ORDERS_GROUP", f"{KAFKA_TOPIC_PREFIX}flux-orders")
# Seed-compatible POST /init without a merchant login (load tests, demos). Never in production.
FLUX_DEMO_MODE = env_bool("FLUX_DEMO_MODE", False)
if PRODUCTION and FLUX_DEMO_MODE:
    raise ImproperlyConfigured("FLUX_DEMO_MODE opens POST /init to anyone; it is refused in production")
FLUX_DEMO_MERCHANT = env_str("FLUX_DEMO_MERCHANT", "demo")

# Beat runs the scheduler's sweep every second: sales start and end on time, and
# a start missed while the scheduler was down happens as soon as it is back.
CELERY_BEAT_SCHEDULE = {
    "sales-sweep": {
        "task": "sales.sweep",
        "schedule": env_int("SALES_SWEEP_SECONDS", 1),
        "options": {"expires": 5},
    },
    # Reservations the API could not hand to Kafka (orders/republish.py).
    "orders-republish": {"task": "orders.republish", "schedule": 5.0, "options": {"expires": 10}},
}

# --- the buy API -------------------------------------------------------------------
# How long a buy request waits for Kafka's acknowledgement before answering
# "accepted, pending" (the reservation stays in the ledger for re-publication).
BUY_KAFKA_ACK_TIMEOUT = float(env_str("BUY_KAFKA_ACK_TIMEOUT", "1.0"))
BUY_MAX_BODY_BYTES = env_int("BUY_MAX_BODY_BYTES", 1024)
# How long an ended sale's live state (figures, ledger, shoppers, waiting room) stays
# in Redis: longer than the re-publisher and the final report look at it (a day).
ENDED_SALE_REDIS_SECONDS = env_int("ENDED_SALE_REDIS_SECONDS", 2 * 86400)

# --- who the shopper is (orders/buy/identity.py) -----------------------------------
# The hosted pages' signed fg_shopper cookie: how long a browser keeps its shopper id.
SHOPPER_COOKIE_MAX_AGE = env_int("SHOPPER_COOKIE_MAX_AGE", 30 * 86400)
SHOPPER_COOKIE_SECURE = PRODUCTION
# A CAPTCHA (or any other check) before a hosted pages' shopper cookie, on top of the
# sale's proof of work: the dotted path of a function (request, sale id) -> None when
# the visitor passed, else the words of the refusal (waitingroom/shopper.py). Off by
# default; README "What a bot faces" shows how to plug a provider in.
SHOPPER_CHECK = env_str("SHOPPER_CHECK", "")
# The longest lifetime a storefront's X-Shopper-Token may claim.
SHOPPER_TOKEN_MAX_SECONDS = env_int("SHOPPER_TOKEN_MAX_SECONDS", 86400)
# How long a web process keeps a storefront key it read from Redis: a revoked key
# still passes in a process that read it for at most this long.
STOREFRONT_KEY_CACHE_SECONDS = env_int("STOREFRONT_KEY_CACHE_SECONDS", 10)
# Places in one sale's waiting room one client address may hold (0: no cap). Shoppers
# behind one NAT share an address: keep it well above one.
WAITING_ROOM_JOINS_PER_ADDRESS = env_int("WAITING_ROOM_JOINS_PER_ADDRESS", 50)
# Websockets one client address (an IPv6 /64) may hold open on one daphne process (0: no
# cap; flux_admin/sockets.py). A shopper's page holds one or two; an office behind one
# address, one or two per person.
WS_SOCKETS_PER_ADDRESS = env_int("WS_SOCKETS_PER_ADDRESS", 200)
# How many sockets must have closed (and at least half of the peak) before daphne
# collects what they left and hands the memory back (flux_admin/sockets.py).
WS_MEMORY_RETURN_SOCKETS = env_int("WS_MEMORY_RETURN_SOCKETS", 500)
# Session-backed messages: the cookie-backed default builds a signer on every
# request, buy requests included.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- the waiting room (waitingroom/queue.py, waitingroom/admitter.py) ----------------
# A waiting shopper whose page has been gone (websocket closed, no poll) longer than
# this loses its place: the admitter skips it instead of spending an admission on it.
WAITING_ROOM_GRACE_SECONDS = env_int("WAITING_ROOM_GRACE_SECONDS", 15)
# How long an admitted shopper has to buy with its admission token (single use).
ADMISSION_TOKEN_SECONDS = env_int("ADMISSION_TOKEN_SECONDS", 60)
# How often the admitter (manage.py run_admissions) admits and broadcasts each sale's queue.
WAITING_ROOM_TICK_SECONDS = float(env_str("WAITING_ROOM_TICK_SECONDS", "0.5"))
# How often the pages get each sale's figures (a change of status goes out at once).
WAITING_ROOM_UPDATE_SECONDS = float(env_str("WAITING_ROOM_UPDATE_SECONDS", "1.0"))

# --- the live dashboard and /metrics (dashboard/) ------------------------------------
# How often `manage.py run_dashboard` computes and sends every live sale's dashboard.
DASHBOARD_TICK_SECONDS = float(env_str("DASHBOARD_TICK_SECONDS", "1.0"))
# /metrics (Prometheus) answers only `Authorization: Bearer <this>`. Development has a
# fixed token so that `make run` can be scraped; production has none unless set (and
# then /metrics refuses everyone), and refuses to start with one shorter than 32.
DEVELOPMENT_METRICS_TOKEN = "flux-development-metrics-token"
FLUX_METRICS_TOKEN = env_str("FLUX_METRICS_TOKEN", "" if PRODUCTION else DEVELOPMENT_METRICS_TOKEN)
if (
    PRODUCTION
    and FLUX_METRICS_TOKEN
    and (FLUX_METRICS_TOKEN == DEVELOPMENT_METRICS_TOKEN or len(FLUX_METRICS_TOKEN) < 32)
):
    raise ImproperlyConfigured(
        "production needs FLUX_METRICS_TOKEN unset (no /metrics) or a random value of at least 32 characters"
    )
