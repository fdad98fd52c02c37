/**
 * `EntitiesModule.forRoot({ replication })`: several instances, each with its own data
 * directory, kept equal through one NATS JetStream stream. Needs the optional packages
 * `@nats-io/transport-node` and `@nats-io/jetstream`.
 */
export interface ReplicationOptions {
  /** NATS server URLs, e.g. `['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222']`. */
  servers: string | string[];
  /** The stream's name; created with `replicas` if missing. Default `ENTITIES`. */
  stream?: string;
  /** How many NATS servers keep each message when the stream is created. Default 3. */
  replicas?: number;
  /**
   * How long a write waits for the stream to store it, and a request's `X-Entities-Min-Seq` for
   * this instance to catch up, in ms. Default 5000.
   */
  timeout?: number;
  /**
   * On the one instance whose data directory holds a store written without replication: make
   * that store the start of the stream, which must be empty. Its first message marks the store's
   * data as the stream's beginning without carrying it, so the other instances join from a
   * `backup` of this one; an instance on an empty directory refuses that stream. Without it, a
   * store written without replication refuses to start. Default `false`.
   */
  adoptLocalStore?: boolean;
}
