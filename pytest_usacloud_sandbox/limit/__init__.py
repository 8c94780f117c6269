"""The shared token bucket (bucket), the interface of its stores (store) and the stores: a file
(filestore) or Redis (redisstore)."""
