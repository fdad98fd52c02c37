/** The actions a `@Permission` rule can guard, as the routes perform them. */
export type EntityAction = 'read' | 'create' | 'update' | 'delete' | 'history' | 'audit' | 'admin';
