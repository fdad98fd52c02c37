/** What the audit trail shows for a value of a `hidden` field. */
export const HIDDEN_VALUE = '[hidden]';
