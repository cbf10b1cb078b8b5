/**
 * TypeScript typing for stages that return the kind they are given (normalize,
 * center): calling them from code keeps the value's type, so that
 * `of(image).pipe(center(), svd())` compiles. YAML pipelines are unaffected.
 */
import type { OperatorFunction } from 'rxjs';

type Call = (...args: never[]) => unknown;

export type KindPreserving<S extends Call, U> = (<T extends U>(params?: Parameters<S>[0], opts?: Parameters<S>[1]) => OperatorFunction<T, T>) & S;
