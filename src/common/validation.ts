import { ValidationError, ValidationPipe } from '@nestjs/common';
import { AppError } from './app-error';
import { ErrorCode } from './error-codes';

interface FieldProblem {
  field: string;
  message: string;
}

function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));

    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * Global pipe: unknown fields are rejected, types are converted, and invalid input gets a 400
 * problem naming every bad field.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => {
      const problems = flatten(errors);
      const summary = problems.map((p) => `${p.field}: ${p.message}`).join('; ');

      return new AppError({
        status: 400,
        code: ErrorCode.ValidationFailed,
        detail: `Invalid request: ${summary || 'the body must be a JSON object'}`,
        extra: { errors: problems },
      });
    },
  });
}
