/** How a record's fields changed between two versions (`EntityRepository.diff`). */
export interface RecordDiff {
  id: string;
  from: number;
  to: number;
  changes: Record<string, { from: unknown; to: unknown }>;
}
