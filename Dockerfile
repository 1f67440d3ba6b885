# One image for every role; docker-compose.yml picks the subcommand.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/waymark ./cmd/waymark

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/waymark /usr/local/bin/waymark
ENTRYPOINT ["/usr/local/bin/waymark"]
