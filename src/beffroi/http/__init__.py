"""What the areas' HTTP routes share: dependencies, problem documents, query parameter
types, edge guards and the response cache. The application that mounts the routes is
:mod:`beffroi.web`."""
