module redgo

go 1.26.8
