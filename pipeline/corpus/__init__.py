"""The corpus stage: article files to the articles, sentences, entities and sentiment tables."""
