import type { Static, TObject, TSchema } from 'typebox';
import Value from 'typebox/value';

const WHOLE_NUMBER = /^[+-]?\d+$/;

export type ConfigResult<S extends TObject> =
  | { ok: true; config: Static<S> }
  | { ok: false; problems: string[] };

/**
 * Reads settings from the environment against one TypeBox schema. Every problem is reported at once,
 * never only the first, and never with the value that was given (it may be a secret).
 *
 * `requiredInProduction` lists settings whose development defaults must not reach production.
 */
export function loadConfig<S extends TObject>(
  schema: S,
  env: NodeJS.ProcessEnv,
  options: { requiredInProduction?: readonly (keyof Static<S> & string)[] } = {},
): ConfigResult<S> {
  const production = env.NODE_ENV === 'production';
  const problems: string[] = [];
  const reported = new Set<string>();
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const key of Object.keys(schema.properties)) {
    const property = (schema.properties as Record<string, TSchema>)[key] as Record<string, unknown>;
    // TypeBox lists every non-optional property as required, defaults or not; only those without a default are.
    const declaredRequired = (schema.required?.includes(key) ?? false) && !('default' in property);
    const requiredHere =
      declaredRequired || (production && options.requiredInProduction?.includes(key as never));
    if (requiredHere && raw[key] === undefined) {
      reported.add(key);
      problems.push(`Required environment variable '${key}' is not set.`);
    }
  }
  // Conversion would truncate `80.5` to 80: a setting that is not a whole number is refused instead.
  for (const [key, value] of Object.entries(raw)) {
    const property = (schema.properties as Record<string, TSchema>)[key] as Record<string, unknown>;
    if (property.type !== 'integer' || reported.has(key) || WHOLE_NUMBER.test(String(value).trim())) continue;
    reported.add(key);
    problems.push(`Environment variable '${key}' is not valid: it must be ${describe(property as TSchema)}.`);
  }
  const converted = Value.Default(schema, Value.Convert(schema, raw)) as Record<string, unknown>;
  // Each setting checked on its own: TypeBox's errors of a whole object stop at a few, and a union's
  // (one per member) would crowd out the settings after it.
  for (const key of Object.keys(schema.properties)) {
    const property = (schema.properties as Record<string, TSchema>)[key] as TSchema;
    if (reported.has(key) || converted[key] === undefined || Value.Check(property, converted[key])) continue;
    reported.add(key);
    problems.push(`Environment variable '${key}' is not valid: it must be ${describe(property)}.`);
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: converted as Static<S> };
}

/** A person-readable description of what a setting accepts, taken from its schema. */
function describe(schema: TSchema | undefined): string {
  const s = (schema ?? {}) as Record<string, unknown>;
  if (typeof s.description === 'string') return s.description;
  if (Array.isArray(s.anyOf)) {
    const values = (s.anyOf as Record<string, unknown>[]).map((option) => String(option.const));
    return `one of ${values.join(', ')}`;
  }
  if (s.type === 'integer') {
    const bounds = [
      s.minimum !== undefined ? `>= ${s.minimum}` : '',
      s.maximum !== undefined ? `<= ${s.maximum}` : '',
    ]
      .filter(Boolean)
      .join(' and ');
    return bounds ? `an integer ${bounds}` : 'an integer';
  }
  if (s.type === 'boolean') return 'true or false';
  if (s.format === 'uri') return 'a URL';
  if (typeof s.minLength === 'number') return `a string of at least ${s.minLength} characters`;
  return `a ${String(s.type ?? 'value')}`;
}
