/** Port types are checked by tsc: a chain whose ports do not fit must not compile. */
import { describe, it, expectTypeOf } from 'vitest';
import type { Observable, OperatorFunction } from 'rxjs';
import { counter, scale, addSide } from './fixtures.js';
import { writeJson } from '../../src/stages/write-json.js';
import type { Metrics, FileRef } from '../../src/core/ports.js';

describe('stage types', () => {
  it('a source stage is an Observable of its output type', () => {
    expectTypeOf(counter({ n: 2 })).toEqualTypeOf<Observable<Metrics>>();
  });

  it('a transform stage is an OperatorFunction between its port types', () => {
    expectTypeOf(scale({ factor: 2 })).toEqualTypeOf<OperatorFunction<Metrics, Metrics>>();
    expectTypeOf(counter().pipe(scale(), writeJson())).toEqualTypeOf<Observable<FileRef>>();
  });

  it('a mismatched chain does not compile', () => {
    // @ts-expect-error File (from write-json) cannot feed scale, which expects Metrics
    counter().pipe(writeJson(), scale());
  });

  it('params are typed from the zod schema', () => {
    // @ts-expect-error factor must be a number
    scale({ factor: 'two' });
    // @ts-expect-error unknown key
    counter({ m: 3 });
  });

  it('side inputs are required and typed', () => {
    // @ts-expect-error the offset side input is missing
    addSide({});
    expectTypeOf(addSide({}, { sides: { offset: { kind: 'Metrics', name: 'o', values: { i: 1 } } } })).toEqualTypeOf<OperatorFunction<Metrics, Metrics>>();
  });
});
