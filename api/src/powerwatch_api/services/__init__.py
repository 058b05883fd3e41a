"""Query logic: validated inputs in, stored-function calls, response models out."""
