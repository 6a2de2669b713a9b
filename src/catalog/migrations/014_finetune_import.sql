-- The `import` backend: a LoRA trained elsewhere, registered as a fine-tune version without training.
ALTER TABLE finetunes DROP CONSTRAINT IF EXISTS finetunes_backend_check;
ALTER TABLE finetunes ADD CONSTRAINT finetunes_backend_check
  CHECK (backend IN ('sketch', 'replicate', 'fal', 'self-hosted', 'import'));
