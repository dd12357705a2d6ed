"""Model: the data every stage shares (errors, images, references, findings, resources, change sets); imports nothing of promoter."""
