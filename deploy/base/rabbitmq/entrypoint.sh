#!/bin/sh
# The configuration is written at each start from the environment: the bootstrap user
# (RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS, from the env file, never from the image).
set -eu
: "${RABBITMQ_DEFAULT_USER:?set RABBITMQ_DEFAULT_USER}"
: "${RABBITMQ_DEFAULT_PASS:?set RABBITMQ_DEFAULT_PASS}"
umask 077
cat > "$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.default = 5672
management.tcp.port = 15672
loopback_users = none
default_user = $RABBITMQ_DEFAULT_USER
default_pass = $RABBITMQ_DEFAULT_PASS
default_vhost = /
CONF
exec rabbitmq-server "$@"
