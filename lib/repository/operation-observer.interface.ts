/** The operations of `EntityRepository`, as metrics and spans name them. */
export type RepositoryOperation =
  | 'create'
  | 'createMany'
  | 'findById'
  | 'find'
  | 'history'
  | 'events'
  | 'replace'
  | 'update'
  | 'delete'
  | 'restore'
  | 'purge'
  | 'findAt'
  | 'diff'
  | 'revert'
  | 'transaction';

/**
 * Watches every repository operation (timing, spans, slow-query warnings). The repository
 * owns this contract; telemetry implements it, so the repository knows nothing of
 * Prometheus or OpenTelemetry.
 */
export interface OperationObserver {
  /**
   * Must call `run` once and return what it returns (its rejection included). `describe`
   * explains a query's plan; it is called only when the description is needed.
   */
  operation<R>(entity: string, operation: RepositoryOperation, run: () => Promise<R>, describe?: () => string): Promise<R>;
}
