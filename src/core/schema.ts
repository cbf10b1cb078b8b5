/** JSON Schema for pipeline files, generated from the registry (editor completion and validation). */
import type { Registry } from './registry.js';
import { PORT_KINDS } from './ports.js';

export function pipelineJsonSchema(registry: Registry): Record<string, unknown> {
  const stepVariants = registry.all().map((def) => ({
    type: 'object',
    description: def.summary,
    properties: {
      id: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_-]*$', description: 'step id (default: the stage name)' },
      stage: { const: def.name, description: def.summary },
      ...(def.input === null ? {} : { input: { type: 'string', description: `step whose output feeds this one (default: the previous step); accepts ${[def.input].flat().join(' or ')}` } }),
      ...(def.sides && Object.keys(def.sides).length
        ? {
            inputs: {
              type: 'object',
              additionalProperties: false,
              required: Object.keys(def.sides),
              properties: Object.fromEntries(Object.entries(def.sides).map(([k, v]) => [k, { type: 'string', description: `step id giving ${[v].flat().join(' or ')}` }])),
            },
          }
        : {}),
      params: registry.paramsJsonSchema(def.name),
      description: { type: 'string' },
      when: { description: 'run the step only when this (usually ${variable}) is not null, false, empty or 0' },
    },
    required: ['stage'],
    additionalProperties: false,
  }));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://svdflow.dev/pipeline.schema.json',
    title: 'svdflow pipeline',
    description: `A pipeline of svdflow stages. Port types: ${PORT_KINDS.join(', ')}.`,
    type: 'object',
    additionalProperties: false,
    required: ['steps'],
    properties: {
      name: { type: 'string' },
      description: { type: 'string' },
      variables: { type: 'object', description: 'values substituted for ${name} in params; override with --set name=value' },
      demo: { type: 'object', description: 'variable values that `svdflow demo` (npm start) uses for this pipeline, e.g. the bundled ground truth' },
      steps: { type: 'array', minItems: 1, items: { oneOf: stepVariants } },
    },
  };
}
