"""The daemon's MQTT front: the line's events published to a plant broker (docs/mqtt.md)."""
