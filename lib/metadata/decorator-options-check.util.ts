/** What an option must hold: `any` is checked where it is read (names, rules, types). */
type OptionKind = 'boolean' | 'string' | 'any';

/** The options each decorator takes, as its metadata holds them. */
const OPTIONS: Readonly<Record<string, Readonly<Record<string, OptionKind>>>> = {
  '@Entity': { name: 'any', path: 'string', softDelete: 'any', migrations: 'any' },
  '@Field': { required: 'boolean', default: 'any', immutable: 'boolean', hidden: 'boolean', description: 'string', example: 'any', type: 'any' },
  '@Index': { unique: 'boolean', name: 'any' },
  '@Composite': { fields: 'any', unique: 'boolean', name: 'any' },
  '@Reference': { target: 'any', onDelete: 'any', as: 'any' },
};

/**
 * Fails on a decorator option it does not take or of another kind: a misspelt `requried: false`,
 * or `hidden: 'false'` (a string, so truthy), would otherwise quietly decide the opposite.
 */
export function checkDecoratorOptions(decorator: keyof typeof OPTIONS, options: object, fail: (problem: string) => never): void {
  const taken = OPTIONS[decorator]!;
  for (const [key, value] of Object.entries(options)) {
    const kind = taken[key];
    if (kind === undefined)
      fail(
        `${decorator} has no option ${JSON.stringify(key)} (it takes ${Object.keys(taken)
          .filter((name) => name !== 'target' && name !== 'fields')
          .join(', ')})`,
      );
    if (value !== undefined && kind !== 'any' && typeof value !== kind)
      fail(`${decorator} ${key} must be ${kind === 'boolean' ? 'true or false' : 'a string'}, not ${JSON.stringify(value) ?? String(value)}`);
  }
}
