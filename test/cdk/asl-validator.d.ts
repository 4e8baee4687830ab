// asl-validator 4 ships TypeScript sources but no declarations; this is the part the tests use.
declare module 'asl-validator' {
  interface ValidationOptions {
    readonly checkPaths: boolean;
    readonly checkArn: boolean;
  }
  interface ValidationResult {
    readonly isValid: boolean;
    readonly errors: readonly unknown[];
    errorsText(separator?: string): string;
  }
  function validator(definition: unknown, options?: ValidationOptions): ValidationResult;
  export = validator;
}
