import Logging
import NIOCore
import RedisClient
import Routing
import State
import SwitchboardConfig

extension GatewayContext {
    /// The router's state store: Redis when `router_settings` names one (`redis_url`,
    /// `redis_host` / `REDIS_HOST`, or a cluster's `redis_startup_nodes` /
    /// `REDIS_CLUSTER_NODES`), else this worker's embedded store.
    static func makeStore(config: GatewayConfig, router: ModelRouter, policy: RouterPolicy, logger: Logger) -> any StateStore {
        let limits = router.deploymentsBySlot.map { DeploymentLimits(id: $0.id, rpm: $0.params.rpm, tpm: $0.params.tpm) }
        let settings = config.routerSettings
        guard settings.usesRedis else { return EmbeddedStateStore(deployments: limits, cooldown: policy.cooldown) }
        var redis: RedisConfiguration
        if let url = settings.redisURL, let parsed = RedisConfiguration(url: url) {
            redis = parsed
        } else {
            redis = RedisConfiguration(
                host: settings.redisHost ?? "127.0.0.1", port: settings.redisPort ?? 6379, username: settings.redisUsername,
                password: settings.redisPassword, database: settings.redisDB, tls: settings.redisSSL)
        }
        if settings.redisURL != nil {
            // Keys given beside the URL fill what it leaves out.
            redis.username = redis.username ?? settings.redisUsername
            redis.password = redis.password ?? settings.redisPassword
            if redis.database == 0 { redis.database = settings.redisDB }
        }
        redis.tls = redis.tls || settings.redisSSL
        redis.tlsCACertificates = settings.redisSSLCACerts
        redis.tlsCertificate = settings.redisSSLCertFile
        redis.tlsKey = settings.redisSSLKeyFile
        redis.tlsVerify = settings.redisSSLVerify
        redis.clusterNodes = settings.redisClusterNodes.map { RedisNodeAddress(host: $0.host, port: $0.port) }
        if !redis.clusterNodes.isEmpty, redis.database != 0 {
            logger.warning("redis_db \(redis.database) is not used: a Redis Cluster has only database 0")
            redis.database = 0
        }
        redis.callTimeout = .nanoseconds(Int64(settings.redisTimeoutMilliseconds * 1e6))
        do {
            let client = try RedisClient(configuration: redis, logger: logger)
            let options = RedisStateStore.Options(failClosed: settings.redisFailClosed)
            logger.info("router state in Redis at \(redis) (deadline \(settings.redisTimeoutMilliseconds) ms, \(settings.redisFailClosed ? "fail closed" : "fail open"))")
            return RedisStateStore(deployments: limits, cooldown: policy.cooldown, client: client, options: options, logger: logger)
        } catch {
            logger.error("cannot use Redis at \(redis) (\(error)): limits hold per worker")
            return EmbeddedStateStore(deployments: limits, cooldown: policy.cooldown)
        }
    }
}
